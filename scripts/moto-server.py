"""moto's server, with the percentile statistics (p50, p90, p99.9, ...) that moto's CloudWatch
lacks: GetMetricData answers them by nearest rank over the values put, as CloudWatch does for
values sent one by one. Everything else is moto's own. Started by scripts/moto."""
import math

from moto.cloudwatch import models

_statistic = models.Statistics.get_statistics_for_type


def _with_percentiles(self, stat):
    value = _statistic(self, stat)
    if value is not None or not stat.startswith("p"):
        return value
    try:
        q = float(stat[1:])
    except ValueError:
        return None
    values = sorted(self.metric_single_values_list)
    if not values or not 0 <= q <= 100:
        return None
    return values[max(1, math.ceil(q / 100 * len(values))) - 1]


models.Statistics.get_statistics_for_type = _with_percentiles

if __name__ == "__main__":
    from moto.server import main

    main()
