#!/usr/bin/env python3
"""Run a command on a pseudo-terminal, answering prompts, for tests of interactive behaviour.

usage: pty_run.py SCRIPT_JSON -- command args...
SCRIPT_JSON is a list of [expect, send] pairs: wait until `expect` appears in the output (since the last
match), then type `send`. Prints one JSON object: {"code": exit status, "output": transcript}.
Everything is bounded: 20 s per expectation, 60 s in all.
"""
import json, os, pty, select, sys, time

def main():
    script = json.loads(sys.argv[1])
    argv = sys.argv[sys.argv.index('--') + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    out = b''
    seen = 0
    deadline = time.time() + 60
    def pump(timeout):
        nonlocal out
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(fd, 65536)
        except OSError:
            return False
        if not data:
            return False
        out += data
        return True
    alive = True
    for expect, send in script:
        until = min(deadline, time.time() + 20)
        while alive and expect.encode() not in out[seen:] and time.time() < until:
            alive = pump(0.1)
        idx = out.find(expect.encode(), seen)
        if idx == -1:
            break
        seen = idx + len(expect)
        time.sleep(0.15)
        os.write(fd, send.encode())
    while alive and time.time() < deadline:
        alive = pump(0.2)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps({"code": code, "output": out.decode('utf-8', 'replace')}))

main()
