/**
 * Extra arguments for a test stack's edges and shields: on SIGTERM they close at once instead of
 * after the 8 s drain delay (`--drain-delay`) that gives viewers time to move away. A test's stack
 * is stopped after its viewers are gone, so the delay would only add to the suite's time; tests
 * of draining itself (edge-integration, the edge-drain drill) keep it.
 */
export const QUICK_STOP_ARGS = { edge: ['--drain-delay', '0'], shield: ['--drain-delay', '0'] } as const;
