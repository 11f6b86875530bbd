"""Entry module for spark-submit: the `reporter` command line, run inside the Spark driver.

    spark-submit --master yarn --archives env.tar.gz#env \\
        --conf spark.pyspark.driver.python="$PWD/env/bin/python" \\
        --conf spark.pyspark.python=./env/bin/python \\
        "$(python -c 'import reporter.spark.submit as m; print(m.__file__)')" \\
        run /shared/logs --out /shared/reports/today --engine spark

Run from the activated env (README, "The cluster recipe"). The session spark-submit configured
(master, executors, memory) is the one the run uses.
"""

from __future__ import annotations

from reporter.cli import main

if __name__ == "__main__":
    main()
