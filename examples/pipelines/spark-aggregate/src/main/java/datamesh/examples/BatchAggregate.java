package datamesh.examples;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.raise_error;
import static org.apache.spark.sql.functions.regexp_extract;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;

import java.util.HashMap;
import java.util.Map;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;

/**
 * The Spark example pipeline: reads every text file under the input (recursively), lines
 * {@code <key>,<amount>} with an integer amount (or {@code <key>,...,<amount>}: the last field
 * is the amount, so the job's own output can feed another run), and writes one CSV file of
 * {@code <key>,<count>,<sum>} lines, sorted by key, to the output (replacing what is there).
 *
 * <p>Arguments: {@code --input <uri> --output <uri> [--hold-seconds <n>]} ({@code s3a://},
 * {@code hdfs://} or {@code file://}); {@code --hold-seconds} keeps the driver running that long
 * after writing (to watch or kill a running batch). Blank lines are skipped; any other line that
 * is not {@code <key>,[...,]<amount>} fails the job with a message naming the line and its file. Storage access (the s3a endpoint,
 * credentials) is whatever Spark properties the submitter sets: nothing is configured here.
 */
public final class BatchAggregate {
    // Key: the text before the first comma (not empty); amount: the last field, an integer,
    // spaces around it allowed.
    private static final String LINE = "^([^,]+),(?:[^,]*,)*\\s*([+-]?[0-9]+)\\s*$";

    private BatchAggregate() {}

    public static void main(String[] args) {
        Map<String, String> a = parseArgs(args);
        SparkSession spark = SparkSession.builder().getOrCreate();
        try {
            aggregate(spark, a.get("--input"), a.get("--output"));
            hold(a.get("--hold-seconds"));
        } finally {
            spark.stop();
        }
    }

    static void aggregate(SparkSession spark, String input, String output) {
        Dataset<Row> lines = spark.read()
                .option("recursiveFileLookup", "true")
                .text(input)
                .select(col("value"), col("_metadata.file_path").as("file"))
                .filter(trim(col("value")).notEqual(""));
        Column value = col("value");
        Column amount = regexp_extract(value, LINE, 2).try_cast(DataTypes.LongType);
        // amount is null when the line does not match, or its amount does not fit in a long.
        Column malformed = not(value.rlike(LINE)).or(amount.isNull());
        // raise_error sits in a column the aggregate reads, so the optimizer cannot prune it.
        Column checkedAmount = when(malformed,
                        raise_error(concat(lit("malformed line '"), value, lit("' in "), col("file"),
                                lit(": want <key>,<integer amount>"))))
                .otherwise(amount)
                .cast(DataTypes.LongType);
        lines.select(regexp_extract(value, LINE, 1).as("key"), checkedAmount.as("amount"))
                .groupBy("key")
                .agg(count(lit(1)).as("count"), sum("amount").as("sum"))
                .coalesce(1)
                .sortWithinPartitions("key")
                .write()
                .mode(SaveMode.Overwrite)
                .option("header", "false")
                .csv(output);
    }

    /** Keeps the driver running for {@code seconds} (null: not at all). */
    static void hold(String seconds) {
        if (seconds == null) {
            return;
        }
        try {
            Thread.sleep(Long.parseLong(seconds) * 1000L);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final String USAGE = "usage: --input <uri> --output <uri> [--hold-seconds <n>]";

    /** The arguments by flag; an unknown flag, a missing value or a missing flag is an error. */
    static Map<String, String> parseArgs(String[] args) {
        Map<String, String> seen = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            String flag = args[i];
            if (!flag.equals("--input") && !flag.equals("--output") && !flag.equals("--hold-seconds")) {
                throw new IllegalArgumentException("unknown argument '" + flag + "'; " + USAGE);
            }
            if (i + 1 >= args.length || args[i + 1].isEmpty()) {
                throw new IllegalArgumentException(flag + " needs a value; " + USAGE);
            }
            if (seen.put(flag, args[i + 1]) != null) {
                throw new IllegalArgumentException(flag + " is given twice; " + USAGE);
            }
        }
        for (String required : new String[] {"--input", "--output"}) {
            if (!seen.containsKey(required)) {
                throw new IllegalArgumentException("missing " + required + "; " + USAGE);
            }
        }
        String hold = seen.get("--hold-seconds");
        if (hold != null && !hold.matches("[0-9]{1,6}")) {
            throw new IllegalArgumentException("--hold-seconds takes a whole number of seconds; " + USAGE);
        }
        return seen;
    }
}
