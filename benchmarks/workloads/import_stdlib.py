"""Import-heavy workload: import a few hundred standard-library modules.

Run under a coverage tool with ``--pylib`` (``-L``) so that the stdlib is
measured: each newly imported module then costs the tool its per-file set-up
(deciding whether to trace the file, registering it, instrumenting its code
objects, parsing its source for branch arcs...). The module bodies run once,
so this is almost all set-up cost and very little line tracing.

The list is fixed (not discovered) so that the work is the same on every run;
modules that don't exist on this Python (removed ones, optional extensions)
are skipped. Deprecation warnings from old modules are silenced.
"""

import importlib
import warnings

MODULES = """
abc aifc argparse array ast asynchat asyncio asyncio.base_events asyncio.events
asyncio.futures asyncio.locks asyncio.protocols asyncio.queues asyncio.runners
asyncio.selector_events asyncio.streams asyncio.subprocess asyncio.tasks
asyncio.transports asyncio.unix_events asyncore base64 bdb binascii bisect bz2
calendar cgi cgitb chunk cmd code codecs codeop collections collections.abc
colorsys compileall concurrent.futures concurrent.futures.process
concurrent.futures.thread configparser contextlib contextvars copy copyreg
cProfile crypt csv ctypes ctypes.util dataclasses datetime dbm dbm.dumb decimal
difflib dis doctest email email.charset email.encoders email.errors
email.feedparser email.generator email.header email.headerregistry
email.iterators email.message email.mime.application email.mime.audio
email.mime.base email.mime.image email.mime.message email.mime.multipart
email.mime.nonmultipart email.mime.text email.parser email.policy
email.quoprimime email.utils encodings.idna encodings.punycode
encodings.base64_codec encodings.bz2_codec encodings.cp1252 encodings.cp437
encodings.hex_codec encodings.koi8_r encodings.latin_1 encodings.mac_roman
encodings.quopri_codec encodings.rot_13 encodings.utf_16 encodings.utf_32
encodings.uu_codec encodings.zlib_codec ensurepip enum filecmp fileinput
fnmatch fractions ftplib functools getopt getpass gettext glob graphlib gzip
hashlib heapq hmac html html.entities html.parser http http.client
http.cookiejar http.cookies http.server imaplib importlib importlib.abc
importlib.machinery importlib.metadata importlib.resources importlib.util
inspect io ipaddress json json.decoder json.encoder json.scanner json.tool
keyword linecache locale logging logging.config logging.handlers lzma mailbox
mailcap mimetypes modulefinder multiprocessing multiprocessing.connection
multiprocessing.context multiprocessing.managers multiprocessing.pool
multiprocessing.process multiprocessing.queues multiprocessing.shared_memory
multiprocessing.synchronize netrc nntplib numbers opcode operator optparse
pathlib pdb pickle pickletools pipes pkgutil platform plistlib poplib pprint
profile pstats pty py_compile pyclbr pydoc pydoc_data.topics queue quopri random
re reprlib rlcompleter runpy sched secrets selectors shelve shlex shutil signal
site smtplib sndhdr socket socketserver sqlite3 sqlite3.dbapi2 ssl stat
statistics string stringprep struct subprocess sunau symtable sysconfig tabnanny
tarfile telnetlib tempfile textwrap threading timeit token tokenize tomllib
trace traceback tracemalloc tty types typing unittest unittest.mock
unittest.async_case urllib urllib.error urllib.parse urllib.request
urllib.response urllib.robotparser uu uuid wave weakref webbrowser wsgiref
wsgiref.handlers wsgiref.headers wsgiref.simple_server wsgiref.util
wsgiref.validate xdrlib xml xml.dom xml.dom.minidom xml.dom.pulldom
xml.etree.ElementTree xml.parsers.expat xml.sax xml.sax.handler
xml.sax.saxutils xml.sax.xmlreader xmlrpc xmlrpc.client xmlrpc.server zipapp
zipfile zipimport zoneinfo
""".split()


def main():
    imported = missing = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in MODULES:
            try:
                importlib.import_module(name)
            except ImportError:
                missing += 1
            else:
                imported += 1
    # Use a little of what was imported, so the module objects are not idle.
    import email.message, json, xml.dom.minidom
    msg = email.message.EmailMessage()
    msg["Subject"] = "benchmark"
    msg.set_content(json.dumps({"modules": imported}))
    doc = xml.dom.minidom.parseString("<a><b>%d</b></a>" % imported)
    print("RESULT import_stdlib imported", imported, "missing", missing,
          len(msg.as_string()) > 0, doc.documentElement.tagName)


if __name__ == "__main__":
    main()
