package com.example.charlm;

/** Started in a child JVM by the integration tests: a program that uses no framework at all. */
public final class HelloJob {

    private HelloJob() {
    }

    public static void main(String[] args) {
        System.out.println("hello");
    }
}
