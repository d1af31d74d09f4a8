from lab.images import _failing_step

BUILDKIT = """#7 [echo 3/5] RUN echo about to fail && exit 3
#7 0.488 about to fail
#7 ERROR: executor failed running [/bin/sh -c echo about to fail && exit 3]: exit code: 3
------
 > [echo 3/5] RUN echo about to fail && exit 3:
0.488 about to fail
------
failed to solve: executor failed running [/bin/sh -c echo about to fail && exit 3]: exit code: 3""".splitlines()


def test_the_failing_step_is_named():
    assert _failing_step(BUILDKIT) == "[echo 3/5] RUN echo about to fail && exit 3 (exit code: 3)"


def test_without_a_step_the_error_line_is_used():
    assert _failing_step(["x", "ERROR: boom", "tail"]) == "ERROR: boom"
