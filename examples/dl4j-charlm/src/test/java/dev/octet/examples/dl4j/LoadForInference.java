package dev.octet.examples.dl4j;

import java.io.File;
import org.deeplearning4j.util.ModelSerializer;

/** Loads a model file without its updater, as an inference job would, and says what it loaded. */
public final class LoadForInference {

    private LoadForInference() {
    }

    public static void main(String[] args) throws Exception {
        var net = ModelSerializer.restoreMultiLayerNetwork(new File(args[0]), false);
        System.out.println("loaded " + net.numParams() + " parameters");
    }
}
