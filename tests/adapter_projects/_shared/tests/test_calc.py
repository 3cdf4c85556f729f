import os
import subprocess
import sys
import unittest

import calc


class CalcTests(unittest.TestCase):
    def test_add(self):
        self.assertEqual(calc.add(2, 3), 5)
        if os.environ.get("CALC_BREAK"):
            self.fail("CALC_BREAK is set")

    def test_version_kind(self):
        self.assertIn(calc.version_kind(), ("old", "new"))

    def test_child_process(self):
        out = subprocess.run([sys.executable, "-c", "import calc; print(calc.child_work(4))"],
                             capture_output=True, text=True, check=True)
        self.assertEqual(out.stdout.strip(), "6")


if __name__ == "__main__":
    unittest.main()
