"""The names of uploaded files: what a client sends (paths, dots, control
characters, invalid UTF-8, RFC 5987 filename*, backslashes, 1000-byte
names) becomes one safe name in the file's own directory, and comes back
in the download's Content-Disposition."""
import os
import urllib.parse

from harness_uploads import (CURL_BOUNDARY, OCTET, UploadCase, mp_headers,
                             multipart, part)


# (what the client says, what is stored)
NAME_CASES = [
    ("../../etc/passwd", "passwd"),
    ("/etc/passwd", "passwd"),
    ("a/b", "b"),
    ("dir/", "upload"),
    ("/", "upload"),
    ("..", "upload"),
    (".", "upload"),
    ("...", "upload"),
    ("../..", "upload"),
    ("", "upload"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("a\\b", "b"),
    ("a\\", "upload"),
    ("x\x01y\x1fz\x7f.txt", "xyz.txt"),
    ("tab\there.txt", "tabhere.txt"),
    ("name. . ", "name"),
    ("report.pdf.", "report.pdf"),
    ("视频 2026.mp4", "视频 2026.mp4"),
    ("ünïcödé ✓.txt", "ünïcödé ✓.txt"),
    ("emoji 😀.png", "emoji 😀.png"),
    (" lead and inner  spaces.txt", " lead and inner  spaces.txt"),
    ("$(reboot);`id`|&>x.sh", "$(reboot);`id`|&>x.sh"),
    ("a%00b.txt", "a%00b.txt"),		# a literal percent sign: nothing decodes it
    ("-rf", "-rf"),
]


# raw bytes of the name (percent-encoded in ?name=): invalid UTF-8 and NUL
RAW_BYTE_CASES = [
    (b"ab\xff.txt", "ab_.txt"),
    (b"\xc3(x", "_(x"),
    (b"\xed\xa0\x80.bin", "___.bin"),	# a UTF-16 surrogate is not UTF-8
    (b"\xe8\xa7", "__"),			# a cut sequence
    (b"a\x00b.txt", "ab.txt"),		# %00: NUL dropped like any control character
    (b"\x00", "upload"),
    (b"x\n\r.txt", "x.txt"),
]


class UploadNamesTest(UploadCase):
    WORKERS = 1

    def check_name(self, send, expect, data=None):
        """send(data) uploads; the file must be stored as expect, in its
        own directory, and nothing else may appear anywhere."""
        data = data if data is not None else os.urandom(64)
        tree = self.data_tree()
        outside = set(os.listdir(self.tmp))
        r = send(data)
        j = self.assertUploaded(r, data, expect)
        d = os.path.join("files", str(j["id"]))
        self.assertEqual(self.data_tree() - tree, {d, os.path.join(d, expect)},
                         "what the upload added to the data directory")
        self.assertEqual(set(os.listdir(self.tmp)) - outside, set(),
                         "the upload wrote next to the data directory")
        self.assertEqual(os.path.realpath(self.stored_path(j)),
                         os.path.join(os.path.realpath(self.data_path("files", str(j["id"]))),
                                      expect))
        self.assertNotIn("/", expect)
        self.assertLessEqual(len(expect.encode()), 200)
        return j

    def test_names_in_the_raw_form(self):
        for name, expect in NAME_CASES:
            with self.subTest(name=name):
                self.check_name(lambda d: self.upload_raw(d, name, expect=None), expect)
        for raw, expect in RAW_BYTE_CASES:
            with self.subTest(name=raw):
                q = "?name=" + urllib.parse.quote(raw, safe="")
                self.check_name(lambda d: self.upload(d, OCTET, q), expect)
        with self.subTest("no name at all"):
            self.check_name(lambda d: self.upload(d, OCTET), "upload")

    def test_names_in_the_multipart_form(self):
        for name, expect in NAME_CASES:
            if "\\" in name:
                continue	# below: a backslash is an escape in a quoted-string
            with self.subTest(name=name):
                self.check_name(lambda d: self.upload_mp(d, name, expect=None), expect)
        # raw bytes in the quoted filename (what a browser sends for a
        # file named so), NUL excepted: that one is a malformed header
        for raw, expect in RAW_BYTE_CASES:
            if b"\x00" in raw or b"\r" in raw:
                continue
            with self.subTest(name=raw):
                self.check_name(lambda d: self.upload_mp(d, raw, expect=None), expect)
        # RFC 5987 filename*: percent-encoded UTF-8, %00 included
        for enc, expect in (("%E8%A7%86%E9%A2%91%202026.mp4", "视频 2026.mp4"),
                            ("..%2F..%2Fetc%2Fpasswd", "passwd"),
                            ("a%00b.txt", "ab.txt"),
                            ("%2E%2E", "upload")):
            with self.subTest(filename_star=enc):
                disp = b"form-data; name=\"file\"; filename=\"fallback.txt\"; " \
                       b"filename*=UTF-8''" + enc.encode()
                self.check_name(lambda d: self.upload(
                    multipart([part("file", d, disposition=disp)], CURL_BOUNDARY),
                    mp_headers(CURL_BOUNDARY)), expect)

    def test_backslashes_in_multipart_file_names(self):
        # curl and RFC 7230 quoted-string: an escaped backslash
        self.check_name(lambda d: self.upload_mp(d, b"..\\\\..\\\\win.ini", expect=None),
                        "win.ini")
        # browsers do not escape backslashes (WHATWG): old Internet
        # Explorer and Edge send the whole Windows path of the file
        self.check_name(lambda d: self.upload_mp(d, b"C:\\Users\\me\\report.pdf",
                                                 expect=None), "report.pdf")
        self.check_name(lambda d: self.upload_mp(d, b"..\\..\\evil.bat", expect=None),
                        "evil.bat")

    def test_long_names_are_cut_to_200_bytes_keeping_the_extension(self):
        cases = [
            ("a" * 296 + ".bin", "a" * 196 + ".bin"),			# 300 bytes
            ("视" * 100 + ".mp4", "视" * 65 + ".mp4"),		# no character cut in two
            ("b" * 280 + "." + "x" * 19, "b" * 200),		# extension over 16 bytes: cut
            ("c" * 200, "c" * 200),
            ("d" * 201, "d" * 200),
            ("e" * 300 + ".tar.gz", "e" * 197 + ".gz"),
            ("../" * 100 + "f" * 300, "f" * 200),
            ("😀" * 75, "😀" * 50),
            ("g" * 1196 + ".txt", "g" * 196 + ".txt"),		# 1 200 bytes
            ("h" * 7000 + ".log", "h" * 196 + ".log"),		# near the 8 KiB of a part's headers
        ]
        for name, expect in cases:
            with self.subTest(name=name[:20] + "... (%d bytes)" % len(name.encode())):
                self.assertLessEqual(len(expect.encode()), 200)
                self.check_name(lambda d: self.upload_raw(d, name, expect=None), expect)
                self.check_name(lambda d: self.upload_mp(d, name, expect=None), expect)

    def test_names_come_back_in_the_download(self):
        for name, expect in (("../../etc/passwd", "passwd"), ("视频 2026.mp4", "视频 2026.mp4")):
            with self.subTest(name=name):
                j = self.upload_raw(b"content", name).data
                r = self.api("GET", "/api/v1/jobs/%d/file" % j["id"])
                cd = r.headers["Content-Disposition"]
                self.assertTrue(cd.startswith('attachment; filename="'), cd)
                star = cd.split("filename*=UTF-8''", 1)[1]
                self.assertEqual(urllib.parse.unquote(star), expect)
                fallback = cd.split('filename="', 1)[1].split('"', 1)[0]
                self.assertTrue(all(0x20 <= ord(c) < 0x7f for c in fallback), cd)
