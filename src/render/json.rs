use crate::summary::Summary;

pub fn summary(s: &Summary) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(s).expect("a Summary always serialises");
    out.push(b'\n');
    crate::escape::json(out)
}
