"""runnel upload: files streamed with their SHA-256 (checked by the
server), flat client memory for 1 GiB, the job spec and command, a
progress bar on a terminal only, and errors."""
import os
import pty
import subprocess

from cli_util import CliMixin
from harness import RunnelTestCase, bin_path, scaled, sha256_file, sqlite_only, GiB


class UploadTest(CliMixin, RunnelTestCase):
    def test_upload_with_a_command_and_spec(self):
        src = os.path.join(self.tmp, "data.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(3 << 20) + b"\x00\xff")
        p = self.cli("upload", src, "-q", "media", "-n", "the data", "--as",
                     "renamed.bin", "--", 'sha256sum; echo "$RUNNEL_FILE_NAME"',
                     check=0)
        jid = int(p.stdout)
        j = self.wait(jid)
        self.assertEqual(j["state"], "succeeded", j)
        self.assertEqual(j["queue"], "media")
        self.assertEqual(j["name"], "the data")
        self.assertEqual(j["file"]["name"], "renamed.bin")
        self.assertEqual(j["file"]["sha256"], sha256_file(src))
        self.assertEqual(self.server.output(jid),
                         ("%s  -\nrenamed.bin\n" % sha256_file(src)).encode())
        r = self.api("GET", "/api/v1/jobs/%d/file" % jid)
        with open(src, "rb") as f:
            self.assertEqual(r.raw, f.read())

    def test_upload_without_command_prints_json_with_json(self):
        src = os.path.join(self.tmp, "empty")
        open(src, "wb").close()
        import json
        j = json.loads(self.cli("upload", "--json", src, check=0).stdout)
        self.assertEqual(j["type"], "upload")
        self.assertEqual(j["file"]["size"], 0)
        self.assertEqual(self.wait(j["id"])["state"], "succeeded")

    def test_errors(self):
        before = self.server.total()
        self.cli("upload", os.path.join(self.tmp, "missing"), check=2)
        self.cli("upload", self.tmp, check=2)	# a directory
        self.cli("upload", check=2)
        src = os.path.join(self.tmp, "f")
        with open(src, "w") as f:
            f.write("x")
        p = self.cli("upload", src, "-q", "no good", check=6)
        self.assertIn(b"queue", p.stderr)
        self.assertEqual(self.server.total(), before)

    def test_no_progress_bar_without_a_terminal(self):
        src = os.path.join(self.tmp, "g")
        with open(src, "wb") as f:
            f.write(b"y" * 100000)
        p = self.cli("upload", src, check=0)
        self.assertEqual(p.stderr, b"")
        self.assertRegex(p.stdout, rb"^\d+\n$")

    def test_progress_bar_on_a_terminal(self):
        src = os.path.join(self.tmp, "h")
        with open(src, "wb") as f:
            f.write(b"z" * (4 << 20))
        master, slave = pty.openpty()
        p = subprocess.Popen([bin_path("runnel"), "upload", src],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=slave, env=self.cli_env())
        os.close(slave)
        out, _ = p.communicate(timeout=scaled(30))
        tty = b""
        try:
            while True:
                chunk = os.read(master, 65536)
                if not chunk:
                    break
                tty += chunk
        except OSError:
            pass
        os.close(master)
        self.assertEqual(p.returncode, 0)
        self.assertRegex(out, rb"^\d+\n$")
        self.assertIn(b"upload", tty)
        self.assertIn(b"100%", tty)


@sqlite_only("the client's memory is the same whatever stores the file; "
             "uploads_big sends 1 GiB to a PostgreSQL node")
class BigUploadTest(CliMixin, RunnelTestCase):
    def test_one_gib_with_flat_client_memory(self):
        src = os.path.join(self.tmp, "big.bin")
        with open(src, "wb") as f:
            # mostly sparse, with real bytes at both ends and the middle
            for at in (0, GiB // 2, GiB - (1 << 20)):
                f.seek(at)
                f.write(os.urandom(1 << 20))
        self.assertEqual(os.path.getsize(src), GiB)
        p = subprocess.Popen([bin_path("runnel"), "upload", src],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=self.cli_env())
        self.track_pid(p.pid)
        _, status, usage = os.wait4(p.pid, 0)
        out, err = p.stdout.read(), p.stderr.read()
        p.returncode = os.waitstatus_to_exitcode(status)
        self.assertEqual(p.returncode, 0, err)
        # ru_maxrss is in KiB: the client holds a buffer, never the file
        self.assertLess(usage.ru_maxrss, 48 * 1024, "client max RSS %d KiB" %
                        usage.ru_maxrss)
        j = self.wait(int(out), timeout=120)
        self.assertEqual(j["state"], "succeeded", j)
        self.assertEqual(j["file"]["size"], GiB)
        self.assertEqual(j["file"]["sha256"], sha256_file(src))
