package org.example.fw;

/** Stands in for a framework class in {@code ModuleInstallerTest}: it is put in a jar of a made-up framework. */
public class Counter {

    public int next(int x) {
        return Math.abs(x) + 1;
    }
}
