/** Fuzz tests (see fuzz/README in docs/FUZZING.md). */
package net.wanrelay.fuzz;
