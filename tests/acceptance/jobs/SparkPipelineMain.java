// A plain Java main for tests/acceptance/processing_backend_test.rs (the Spark backend's own
// tests), submitted in cluster mode to the stack's master; compiled there, never committed as
// a jar.
//
// Arguments: OUT MODE. Appends "ran <spark.app.name> probe=<spark.datamesh.probe>" to the file
// OUT (the worker passes the submission's Spark properties to the driver as system properties:
// proof that the name and the job's config arrived; appended, so a second driver of one
// submission would show as a second line), then, by MODE:
//   ok    returns (the driver ends FINISHED);
//   throw throws (the driver ends FAILED);
//   sleep sleeps for ten minutes (a driver to kill).

package datamesh.smoke;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;

public class SparkPipelineMain {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: SparkPipelineMain OUT MODE");
        }
        String line = "ran " + System.getProperty("spark.app.name", "?") + " probe="
                + System.getProperty("spark.datamesh.probe", "<unset>") + "\n";
        Files.write(Paths.get(args[0]), line.getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        switch (args[1]) {
            case "ok":
                return;
            case "throw":
                throw new IllegalStateException("datamesh test driver fails: mode throw");
            case "sleep":
                Thread.sleep(600_000);
                return;
            default:
                throw new IllegalArgumentException("unknown mode " + args[1]);
        }
    }
}
