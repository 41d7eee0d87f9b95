"""Scripts saved by Chinese Windows editors (GBK / GB18030) are taken and stored as UTF-8; other non-UTF-8
bytes are still refused with the position of the first bad byte."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from grader.source_text import GB18030, UTF8, decode_script
from grader.submissions import SubmissionError, read_source
from service_helpers import ASSIGNMENTS
from web_helpers import db_of, login, upload

SOLUTION = (ASSIGNMENTS / "backprop-linear" / "solution.py").read_text()
CHINESE = "# 反向传播作业：y = w·x\n" + SOLUTION + "\nprint('训练完成，预测值：', 4 * w.item())\n"


def test_utf8_with_or_without_a_bom_is_read_as_it_is():
    assert decode_script(CHINESE.encode("utf-8")) == (CHINESE, UTF8)
    assert decode_script(b"\xef\xbb\xbf" + CHINESE.encode("utf-8")) == (CHINESE, UTF8)


@pytest.mark.parametrize("codec", ["gbk", "gb18030"])
def test_a_script_saved_as_gbk_is_read_as_chinese(codec):
    assert decode_script(CHINESE.encode(codec)) == (CHINESE, GB18030)


@pytest.mark.parametrize("data", [
    b"print('\xff\xfe')\n",                       # not GB18030 either
    "# café au lait\n".encode("latin-1") + b"x = 1\n",  # decodes as GB18030 only by accident: no Chinese in it
    b"\x81\x30\x81\x30\x01\x02",                   # GB18030, but control characters: not a script
])
def test_other_bytes_are_refused_where_utf8_fails(data):
    with pytest.raises(UnicodeDecodeError) as refused:
        decode_script(data)
    assert refused.value.encoding == "utf-8"
    with pytest.raises(SubmissionError, match="not UTF-8"):
        read_source(data)


def test_the_upload_form_converts_a_gbk_file_and_says_so(app, client):
    login(client, "alice")
    response = upload(client, "backprop-linear", content=CHINESE.encode("gbk"), filename="作业.py")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "GB18030" in page
    from grader.models import Submission

    with db_of(app).session() as session:
        stored = session.query(Submission).order_by(Submission.id.desc()).first()
        assert stored.source == CHINESE and stored.filename == "作业.py"


def test_grader_grade_reads_a_gbk_file(tmp_path):
    path = tmp_path / "作业.py"
    path.write_bytes(CHINESE.encode("gbk"))
    proc = subprocess.run([sys.executable, "-m", "grader.cli", "grade", str(path), "--assignment", "backprop-linear",
                           "--assignments-dir", str(ASSIGNMENTS)], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"Score: 100 / 100", proc.stdout), proc.stdout
