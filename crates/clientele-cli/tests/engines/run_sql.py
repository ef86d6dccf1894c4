"""Runs the queries of `clientele sql` on a real engine: DuckDB, PostgreSQL or Apache Spark.

    python run_sql.py ENGINE MANIFEST.json

The manifest lists cases; each loads one transaction log (Parquet or CSV) into a table named
by the case and runs its queries, writing each result where the case says:

    {"cases": [{"table": "tx_a", "log": "/tmp/a.csv", "time": "order_date",
                "queries": [{"sql": "/tmp/a.segment.sql", "out": "/tmp/a.segment.duckdb"}],
                "hive": "/tmp/a.hive"}]}

Outputs: DuckDB and Spark write Parquet (Spark a directory of part files, as it does), and
PostgreSQL writes CSV (COPY ... TO STDOUT). The engine is started once for all cases: one
PostgreSQL server in a temporary directory (initdb, pg_ctl on a Unix socket there, stopped and
removed at the end), one SparkSession (local[2]). A case with "hive" also has Spark write its
log as a hive-partitioned Parquet tree (year=YYYY/month=MM/part-*.parquet) at that path.

Column types of a CSV log come from DuckDB's detection, with the time column kept as text: the
query parses it with the format clientele detected, as on a warehouse that stores text.
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import duckdb


def log_columns(case):
    """[(name, duckdb type)] of the case's log, the time column as text for a CSV."""
    log = case["log"]
    if log.endswith(".csv"):
        rel = duckdb.sql(
            "SELECT * FROM read_csv(?, types = {%s: 'VARCHAR'})" % sql_text(case["time"]),
            params=[log],
        )
    else:
        rel = duckdb.sql("SELECT * FROM read_parquet(?)", params=[log])
    return list(zip(rel.columns, [str(t) for t in rel.types]))


def sql_text(s):
    return "'" + s.replace("'", "''") + "'"


def query_text(path):
    return open(path).read().strip().rstrip(";")


def timed(label, started):
    print(f"{label}: {time.time() - started:.1f} s", file=sys.stderr)


# --- DuckDB -------------------------------------------------------------------------------


def run_duckdb(cases):
    con = duckdb.connect()
    for case in cases:
        columns = log_columns(case)
        if case["log"].endswith(".csv"):
            types = ", ".join(f"{sql_text(n)}: '{t}'" for n, t in columns)
            source = f"read_csv({sql_text(case['log'])}, header = true, columns = {{{types}}})"
        else:
            source = f"read_parquet({sql_text(case['log'])})"
        con.sql(f'CREATE TABLE "{case["table"]}" AS SELECT * FROM {source}')
        for q in case["queries"]:
            started = time.time()
            con.sql(query_text(q["sql"])).write_parquet(q["out"])
            timed(f"duckdb {os.path.basename(q['sql'])}", started)


# --- PostgreSQL ---------------------------------------------------------------------------

PG_TYPES = {
    "BIGINT": "BIGINT",
    "INTEGER": "INTEGER",
    "SMALLINT": "SMALLINT",
    "DOUBLE": "DOUBLE PRECISION",
    "FLOAT": "REAL",
    "VARCHAR": "TEXT",
    "TIMESTAMP": "TIMESTAMP",
    "TIMESTAMP_NS": "TIMESTAMP",
    "DATE": "DATE",
    "BOOLEAN": "BOOLEAN",
}


def pg_bin(name):
    """A PostgreSQL server program: on PATH, else Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        sys.exit(f"{name} not found: install Debian's postgresql")
    return candidates[-1]


class Postgres:
    """A throwaway server: initdb into a temporary directory, listening on a socket there."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="clientele-pg-")
        self.data = os.path.join(self.root, "data")
        # initdb refuses to run as root: run the server as the postgres user, who owns the dir.
        self.as_user = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        started = time.time()
        self.server(["initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8"])
        self.server(
            [
                "pg_ctl", "-D", self.data, "-l", os.path.join(self.root, "log"), "-w",
                "-o", f"-k {self.root} -c listen_addresses=''", "start",
            ]
        )
        timed("postgres initdb + start", started)

    def server(self, argv):
        subprocess.run(self.as_user + [pg_bin(argv[0])] + argv[1:], check=True,
                       stdout=subprocess.DEVNULL)

    def psql(self, sql, out=None):
        argv = ["psql", "-h", self.root, "-U", "postgres", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        with open(out, "w") if out else open(os.devnull, "w") as sink:
            subprocess.run(argv, input=sql, text=True, check=True, stdout=sink)

    def stop(self):
        try:
            self.server(["pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def run_postgres(cases):
    pg = Postgres()
    try:
        for case in cases:
            columns = log_columns(case)
            table = case["table"]
            ddl = ", ".join(f'"{n}" {PG_TYPES[t]}' for n, t in columns)
            csv = case["log"]
            if not csv.endswith(".csv"):
                csv = os.path.join(pg.root, table + ".csv")
                duckdb.sql(f"COPY (SELECT * FROM read_parquet({sql_text(case['log'])})) "
                           f"TO {sql_text(csv)} (HEADER, DELIMITER ',')")
            started = time.time()
            pg.psql(f'CREATE TABLE "{table}" ({ddl});\n'
                    f"\\copy \"{table}\" FROM {sql_text(csv)} CSV HEADER\n")
            timed(f"postgres load {table}", started)
            for q in case["queries"]:
                started = time.time()
                pg.psql(f"COPY ({query_text(q['sql'])}) TO STDOUT WITH (FORMAT csv, HEADER)",
                        out=q["out"])
                timed(f"postgres {os.path.basename(q['sql'])}", started)
    finally:
        pg.stop()


# --- Spark --------------------------------------------------------------------------------

SPARK_TYPES = {
    "BIGINT": "BIGINT",
    "INTEGER": "INT",
    "DOUBLE": "DOUBLE",
    "VARCHAR": "STRING",
    "TIMESTAMP": "TIMESTAMP_NTZ",
    "DATE": "DATE",
    "BOOLEAN": "BOOLEAN",
}


def run_spark(cases):
    from pyspark.sql import SparkSession, functions as F

    started = time.time()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("clientele-engine-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        # Civil timestamps, as clientele reads them, written to Parquet as such.
        .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    timed("spark session", started)
    try:
        for case in cases:
            if case["log"].endswith(".csv"):
                schema = ", ".join(f"`{n}` {SPARK_TYPES[t]}" for n, t in log_columns(case))
                frame = spark.read.csv(case["log"], header=True, schema=schema)
            else:
                frame = spark.read.parquet(case["log"])
            frame.createOrReplaceTempView(case["table"])
            for q in case["queries"]:
                started = time.time()
                result = spark.sql(query_text(q["sql"]))
                result.coalesce(1).write.mode("overwrite").parquet(q["out"])
                timed(f"spark {os.path.basename(q['sql'])}", started)
            if case.get("hive"):
                ts = F.col(case["time"])
                (
                    frame.withColumn("year", F.year(ts))
                    .withColumn("month", F.date_format(ts, "MM"))
                    .repartition(2)
                    .write.mode("overwrite")
                    .partitionBy("year", "month")
                    .parquet(case["hive"])
                )
    finally:
        spark.stop()


def main():
    engine, manifest = sys.argv[1], sys.argv[2]
    cases = json.load(open(manifest))["cases"]
    {"duckdb": run_duckdb, "postgres": run_postgres, "spark": run_spark}[engine](cases)


if __name__ == "__main__":
    main()
