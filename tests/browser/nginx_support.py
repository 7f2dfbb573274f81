"""nginx in front of a running gunicorn, configured by deploy/nginx.conf.example itself.

render() turns the production example into the test site (placeholders filled in, each TLS block
replaced by its `# test:` line); start() wraps it in a main configuration whose every path (temp
folders, pid, error log, access log) is inside one temp folder and runs nginx in the foreground.
Used by tests/browser/e2e_support.py and tests/test_nginx.py; no pytest imports here.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "nginx.conf.example"
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
MIME_TYPES = Path("/etc/nginx/mime.types")
INSTALL = "apt-get install nginx-light libnginx-mod-http-brotli-static"
TLS_BLOCK = re.compile(r"^[ \t]*# tls \{\n(.*?)^[ \t]*# tls \}\n", re.M | re.S)
TEST_LINE = re.compile(r"^([ \t]*)# test: (.*)$", re.M)


def nginx_binary() -> str | None:
    """nginx on PATH, or where Debian puts it (/usr/sbin is not on every PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


class NginxUnavailable(RuntimeError):
    """nginx or its Brotli module is not installed (the message says how to install them)."""


def missing() -> str | None:
    """Why nginx cannot run here, or None when it can."""
    if nginx_binary() is None:
        return f"nginx is not installed ({INSTALL}; .ci/run installs it)"
    if not BROTLI_MODULE.is_file():
        return f"nginx's Brotli module is not installed ({INSTALL}; .ci/run installs it)"
    return None


def render(port: int, upstream: str, static: Path, access_log: Path) -> str:
    """The example as the test site: plain HTTP on 127.0.0.1:port in front of `upstream`."""
    def tls_block(match: re.Match) -> str:
        line = TEST_LINE.search(match.group(1))
        return f"{line.group(1)}{line.group(2)}\n" if line else ""

    text = TLS_BLOCK.sub(tls_block, EXAMPLE.read_text())
    values = {"@PORT@": str(port), "@UPSTREAM@": upstream,
              "@STATIC@": str(Path(static).resolve()), "@ACCESS_LOG@": str(access_log)}
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise ValueError(f"placeholders not filled in: {left}")
    return text


def main_config(folder: Path, site: Path) -> str:
    """The main configuration around the site (Debian's nginx.conf is not used)."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers may then use the temp folder
    mime = f"include {MIME_TYPES};" if MIME_TYPES.is_file() else "types { text/css css; }"
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""{user}worker_processes 1;
error_log {folder / "error.log"} warn;
load_module {BROTLI_MODULE};
events {{ worker_connections 1024; }}
http {{
    {mime}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    access_log off;
{temp}
    include {site};
}}
"""


@dataclass
class Nginx:
    url: str
    port: int
    folder: Path
    process: subprocess.Popen

    @property
    def access_log(self) -> Path:
        return self.folder / "access.log"

    @property
    def error_log(self) -> Path:
        return self.folder / "error.log"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(folder: Path, port: int, upstream: str, static: Path | None = None) -> Nginx:
    """nginx on 127.0.0.1:port in front of gunicorn at `upstream` (host:port), serving the
    hashed files of `static` (default: the project's static/); call .stop() after."""
    reason = missing()
    if reason:
        raise NginxUnavailable(reason)
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    site, conf = folder / "cekbansos.conf", folder / "nginx.conf"
    site.write_text(render(port, upstream, static or ROOT / "static", folder / "access.log"))
    conf.write_text(main_config(folder, site))
    command = [nginx_binary(), "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log"),
               "-g", f"daemon off; pid {folder / 'nginx.pid'};"]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
    output = open(folder / "nginx.out", "w")  # noqa: SIM115 - stays open for nginx's lifetime
    process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    server = Nginx(f"http://127.0.0.1:{port}", port, folder, process)
    deadline = time.monotonic() + 10
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited ({process.returncode}):\n" + _logs(folder))
        try:
            with urllib.request.urlopen(server.url + "/sehat", timeout=2):
                return server
        except urllib.error.HTTPError:
            return server  # nginx answers (502 when nothing listens behind it)
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("nginx did not answer within 10 s:\n" + _logs(folder))
        time.sleep(0.1)


def _logs(folder: Path) -> str:
    return "".join(path.read_text(errors="replace")[-2000:]
                   for path in (folder / "nginx.out", folder / "error.log") if path.exists())
