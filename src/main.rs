fn main() -> std::process::ExitCode {
    mila::main()
}
