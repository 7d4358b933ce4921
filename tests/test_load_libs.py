"""pyffi.load on the installed headers of real libraries (Debian's -dev packages).

Each library is loaded from its own header as a user would, exposes its
functions and constants, and runs a real call sequence whose result is
checked against Python's own implementation or the library's documentation.
scripts/setup installs the -dev packages; a missing one is a failure.
"""

from __future__ import annotations

import bz2
import ctypes.util
import gc
import hashlib
import lzma
import os
import re
import subprocess
import sys
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import SAFE_PATH

import pyffi

# Real system libraries: slow on a cold cache; scripts/test --quick leaves them out.
pytestmark = pytest.mark.real_library

MULTIARCH = subprocess.run(
    ["cc", "-print-multiarch"], capture_output=True, text=True, check=False
).stdout.strip()


def header(name: str) -> Path:
    for base in ("/usr/include", f"/usr/include/{MULTIARCH}"):
        path = Path(base) / name
        if path.is_file():
            return path
    raise AssertionError(
        f"{name} is not installed: run scripts/setup (it installs the -dev packages)"
    )


def load(lib: str, hdr: str, **kw: Any) -> pyffi.Library:
    return pyffi.load(lib, header(hdr), **kw)


# --- one call sequence per library ----------------------------------------------------


def check_zlib(z: pyffi.Library) -> None:
    data = b"pyffi " * 1000
    assert z.crc32(0, data, len(data)) == zlib.crc32(data)
    assert z.adler32(1, data, len(data)) == zlib.adler32(data)
    bound = z.compressBound(len(data))
    out, n = bytearray(bound), z.ffi.new("uLongf *", bound)
    assert z.compress2(out, n, data, len(data), z.Z_BEST_COMPRESSION) == z.Z_OK
    assert zlib.decompress(bytes(out[: n[0]])) == data
    back, m = bytearray(len(data)), z.ffi.new("uLongf *", len(data))
    assert z.uncompress(back, m, bytes(out[: n[0]]), n[0]) == z.Z_OK and bytes(back) == data
    assert z.zlibVersion() == z.ZLIB_VERSION
    assert (z.Z_OK, z.Z_DEFAULT_COMPRESSION, z.Z_NO_FLUSH) == (0, -1, 0)


def check_sqlite3(s: pyffi.Library) -> None:
    db = s.ffi.new("sqlite3 **")
    assert s.sqlite3_open(":memory:", db) == s.SQLITE_OK
    try:
        sql = "create table t(a int, b text); insert into t values (1, 'x'), (2, 'ü');"
        assert s.sqlite3_exec(db[0], sql, None, None, None) == s.SQLITE_OK
        rows: list[list[str]] = []

        def row(user: Any, n: int, values: Any, names: Any) -> int:
            rows.append([s.ffi.string(values[i]).decode() for i in range(n)])
            return 0

        assert s.sqlite3_exec(db[0], "select a, b from t order by a", row, None, None) == 0
        assert rows == [["1", "x"], ["2", "ü"]]
        assert s.sqlite3_mprintf("%d-%s-%.1f", 7, "q", 1.5) == "7-q-1.5"  # variadic, owned
    finally:
        assert s.sqlite3_close(db[0]) == s.SQLITE_OK
    assert s.sqlite3_libversion() == s.SQLITE_VERSION
    assert s.SQLITE_IOERR_READ == (s.SQLITE_IOERR | (1 << 8)) == 266
    assert int(s.ffi.cast("intptr_t", s.SQLITE_TRANSIENT)) == -1


def check_png(p: pyffi.Library) -> None:
    assert p.png_access_version_number() == p.PNG_LIBPNG_VER
    assert p.png_get_libpng_ver(None) == p.PNG_LIBPNG_VER_STRING
    assert p.PNG_COLOR_TYPE_RGB_ALPHA == 6


def check_jansson(j: pyffi.Library) -> None:
    err = j.ffi.new("json_error_t *")
    obj = j.json_loads(b'{"b": [1, 2.5, "x"], "a": null}', 0, err)
    assert obj != j.ffi.NULL
    try:
        buf = bytearray(64)
        n = j.json_dumpb(obj, buf, len(buf), j.JSON_COMPACT | j.JSON_SORT_KEYS)
        assert bytes(buf[:n]) == b'{"a":null,"b":[1,2.5,"x"]}'
        assert j.json_integer_value(j.json_array_get(j.json_object_get(obj, "b"), 0)) == 1
    finally:
        j.json_delete(obj)  # json_decref is static inline
    assert "static inline function in" in j.skipped["json_decref"]
    assert j.jansson_version_str() == j.JANSSON_VERSION


def check_curl(c: pyffi.Library, tmp_path: Path) -> None:
    assert c.curl_global_init(c.CURL_GLOBAL_DEFAULT) == c.CURLE_OK
    src = tmp_path / "hello.txt"
    src.write_bytes(b"hello from curl\n" * 100)
    h = c.curl_easy_init()
    try:
        got: list[bytes] = []

        def write(ptr: Any, size: int, n: int, user: Any) -> int:
            got.append(c.ffi.unpack(ptr, size * n))
            return size * n

        assert c.curl_easy_setopt(h, c.CURLOPT_URL, f"file://{src}") == c.CURLE_OK
        cb = c.callback(write, "curl_write_callback")
        assert c.curl_easy_setopt(h, c.CURLOPT_WRITEFUNCTION, cb) == c.CURLE_OK
        del cb
        gc.collect()
        assert c.curl_easy_perform(h) == c.CURLE_OK
        assert b"".join(got) == src.read_bytes()
    finally:
        c.curl_easy_cleanup(h)
    assert c.curl_version().startswith("libcurl/")
    assert c.LIBCURL_VERSION_NUM == (
        (c.LIBCURL_VERSION_MAJOR << 16) | (c.LIBCURL_VERSION_MINOR << 8) | c.LIBCURL_VERSION_PATCH
    )


def check_xml2(x: pyffi.Library) -> None:
    doc = x.xmlReadMemory(b"<a><b>hi</b><b>there</b></a>", 28, None, None, 0)
    assert doc != x.ffi.NULL
    try:
        root = x.xmlDocGetRootElement(doc)
        assert x.ffi.string(root.name) == b"a"
        text = x.xmlNodeGetContent(root)
        assert x.ffi.string(text) == b"hithere"
        x.xmlFree(text)  # xmlFree is a global variable: a function pointer
    finally:
        x.xmlFreeDoc(doc)
    assert x.LIBXML_DOTTED_VERSION.count(".") == 2


def check_crypto(o: pyffi.Library) -> None:
    data = b"abc" * 50
    md = bytearray(o.SHA256_DIGEST_LENGTH)
    o.SHA256(data, len(data), md)
    assert bytes(md) == hashlib.sha256(data).digest()
    md5 = bytearray(o.SHA512_DIGEST_LENGTH)
    o.SHA512(memoryview(data), len(data), md5)
    assert bytes(md5) == hashlib.sha512(data).digest()


def check_pcre2(p: pyffi.Library) -> None:
    err, off = p.ffi.new("int *"), p.ffi.new("size_t *")
    code = p.pcre2_compile("a(b+)c", p.PCRE2_ZERO_TERMINATED, 0, err, off, None)
    assert code != p.ffi.NULL, err[0]
    md = p.pcre2_match_data_create_from_pattern(code, None)
    try:
        subject = "xxabbbc"
        assert p.pcre2_match(code, subject, len(subject), 0, 0, md, None) == 2
        ov = p.pcre2_get_ovector_pointer(md)
        assert [ov[i] for i in range(4)] == [2, 7, 3, 6]
    finally:
        p.pcre2_match_data_free(md)
        p.pcre2_code_free(code)
    assert p.PCRE2_ZERO_TERMINATED == 2**64 - 1


def check_gmp(g: pyffi.Library) -> None:
    a, b, c = g.ffi.new("mpz_t"), g.ffi.new("mpz_t"), g.ffi.new("mpz_t")
    for x in (a, b, c):
        g.mpz_init(x)  # a macro for __gmpz_init
    try:
        x, y = 123456789012345678901234567890, 987654321098765432109876543210
        assert g.mpz_set_str(a, str(x), 10) == 0 and g.mpz_set_str(b, str(y), 10) == 0
        g.mpz_mul(c, a, b)
        buf = bytearray(g.mpz_sizeinbase(c, 10) + 2)
        assert g.mpz_get_str(buf, 10, c) == str(x * y)
    finally:
        for x in (a, b, c):
            g.mpz_clear(x)
    assert g.__GNU_MP_VERSION >= 6


def check_git2(g: pyffi.Library) -> None:
    assert g.git_libgit2_init() >= 1
    try:
        v = [g.ffi.new("int *") for _ in range(3)]
        assert g.git_libgit2_version(*v) == 0
        assert (v[0][0], v[1][0]) == (g.LIBGIT2_VER_MAJOR, g.LIBGIT2_VER_MINOR)
        oid = g.ffi.new("git_oid *")
        hexid = "0123456789abcdef0123456789abcdef01234567"
        assert g.git_oid_fromstr(oid, hexid) == 0
        assert g.git_oid_tostr_s(oid) == hexid
    finally:
        g.git_libgit2_shutdown()
    assert g.GIT_OK == 0 and g.GIT_ENOTFOUND == -3


def check_sodium(s: pyffi.Library) -> None:
    assert s.sodium_init() >= 0
    out = bytearray(s.crypto_generichash_BYTES)
    assert s.crypto_generichash(out, len(out), b"abc", 3, None, 0) == 0
    assert bytes(out) == hashlib.blake2b(b"abc", digest_size=32).digest()
    assert s.sodium_version_string() == s.SODIUM_VERSION_STRING


def check_lz4(z: pyffi.Library) -> None:
    data = bytes(range(256)) * 64
    dst = bytearray(z.LZ4_compressBound(len(data)))
    n = z.LZ4_compress_default(data, dst, len(data), len(dst))
    assert 0 < n < len(data)
    back = bytearray(len(data))
    assert z.LZ4_decompress_safe(bytes(dst[:n]), back, n, len(back)) == len(data)
    assert bytes(back) == data
    assert z.LZ4_versionNumber() == z.LZ4_VERSION_NUMBER


def check_bz2(b: pyffi.Library) -> None:
    data = b"bzip2 " * 500
    dest, n = bytearray(len(data) + 600), b.ffi.new("unsigned int *", len(data) + 600)
    assert b.BZ2_bzBuffToBuffCompress(dest, n, data, len(data), 9, 0, 0) == b.BZ_OK
    assert bz2.decompress(bytes(dest[: n[0]])) == data
    assert b.BZ2_bzlibVersion().startswith("1.0")


def check_lzma(x: pyffi.Library) -> None:
    data = b"xz " * 1000
    out, pos = bytearray(len(data) + 1000), x.ffi.new("size_t *", 0)
    rc = x.lzma_easy_buffer_encode(6, x.LZMA_CHECK_CRC64, None, data, len(data), out, pos, len(out))
    assert rc == x.LZMA_OK
    assert lzma.decompress(bytes(out[: pos[0]])) == data
    assert x.lzma_version_string() == x.LZMA_VERSION_STRING
    assert x.lzma_version_number() == x.LZMA_VERSION


def check_zstd(z: pyffi.Library) -> None:
    data = b"zstd " * 1000
    dst = bytearray(z.ZSTD_compressBound(len(data)))
    n = z.ZSTD_compress(dst, len(dst), data, len(data), z.ZSTD_CLEVEL_DEFAULT)
    assert not z.ZSTD_isError(n)
    back = bytearray(len(data))
    assert z.ZSTD_decompress(back, len(back), bytes(dst[:n]), n) == len(data)
    assert bytes(back) == data
    assert z.ZSTD_versionNumber() == z.ZSTD_VERSION_NUMBER and z.ZSTD_CLEVEL_DEFAULT == 3


def check_expat(x: pyffi.Library) -> None:
    p = x.XML_ParserCreate(None)
    try:
        seen: list[tuple[str, str]] = []
        x.XML_SetElementHandler(
            p,
            lambda u, name, atts: seen.append(("start", name)),
            lambda u, name: seen.append(("end", name)),
        )
        doc = b"<a><b/>text</a>"
        assert x.XML_Parse(p, doc, len(doc), 1) == x.XML_STATUS_OK
        assert seen == [("start", "a"), ("start", "b"), ("end", "b"), ("end", "a")]
    finally:
        x.XML_ParserFree(p)
    assert x.XML_ExpatVersion().startswith("expat_")


def check_uv(u: pyffi.Library) -> None:
    assert u.uv_version() == u.UV_VERSION_HEX
    assert u.uv_version_string().startswith(f"{u.UV_VERSION_MAJOR}.")
    assert u.uv_strerror(u.UV_EINVAL) == "invalid argument"


def check_archive(a: pyffi.Library) -> None:
    assert a.archive_version_number() == a.ARCHIVE_VERSION_NUMBER
    w = a.archive_write_new()
    buf, used = bytearray(10240), a.ffi.new("size_t *")
    assert a.archive_write_set_format_ustar(w) == a.ARCHIVE_OK
    assert a.archive_write_open_memory(w, buf, len(buf), used) == a.ARCHIVE_OK
    entry = a.archive_entry_new()
    a.archive_entry_set_pathname(entry, "hello.txt")
    a.archive_entry_set_size(entry, 5)
    a.archive_entry_set_filetype(entry, a.AE_IFREG)
    a.archive_entry_set_perm(entry, 0o644)
    assert a.archive_write_header(w, entry) == a.ARCHIVE_OK
    assert a.archive_write_data(w, b"hello", 5) == 5
    a.archive_entry_free(entry)
    assert a.archive_write_close(w) == a.ARCHIVE_OK
    assert a.archive_write_free(w) == a.ARCHIVE_OK
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(bytes(buf[: used[0]]))) as tar:
        member = tar.extractfile("hello.txt")
        assert member is not None and member.read() == b"hello"


def check_xxhash(x: pyffi.Library) -> None:
    assert x.XXH64(b"abc", 3, 0) == 0x44BC2CF5AD770999
    assert x.XXH32(b"abc", 3, 0) == 0x32D153FF
    assert x.XXH_versionNumber() == x.XXH_VERSION_NUMBER


def check_yaml(y: pyffi.Library) -> None:
    v = [y.ffi.new("int *") for _ in range(3)]
    y.yaml_get_version(*v)
    assert y.yaml_get_version_string() == ".".join(str(x[0]) for x in v)
    parser = y.ffi.new("yaml_parser_t *")
    assert y.yaml_parser_initialize(parser) == 1
    try:
        doc = b"a: [1, 2]\n"
        y.yaml_parser_set_input_string(parser, doc, len(doc))
        kinds = []
        event = y.ffi.new("yaml_event_t *")
        while True:
            assert y.yaml_parser_parse(parser, event) == 1
            kinds.append(event.type)
            y.yaml_event_delete(event)
            if kinds[-1] == y.YAML_STREAM_END_EVENT:
                break
        assert kinds.count(y.YAML_SCALAR_EVENT) == 3
    finally:
        y.yaml_parser_delete(parser)


def check_uuid(u: pyffi.Library) -> None:
    text = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    raw = bytearray(16)
    assert u.uuid_parse(text, raw) == 0
    assert bytes(raw) == uuid.UUID(text).bytes
    out = bytearray(37)
    u.uuid_unparse_lower(bytes(raw), out)
    assert out[:36].decode() == text
    assert u.UUID_VARIANT_DCE == 1


def check_acl(a: pyffi.Library) -> None:
    acl = a.acl_from_text("u::rw-,g::r--,o::---")
    try:
        assert a.acl_valid(acl) == 0
        text = a.acl_to_any_text(acl, None, b",", 0)  # owned by libacl: freed with acl_free
        assert text == "user::rw-,group::r--,other::---"
    finally:
        assert a.acl_free(acl) == 0


def check_cap(c: pyffi.Library) -> None:
    caps = c.cap_from_text("cap_chown=ep")
    try:
        value = c.ffi.new("cap_value_t *")  # CAP_CHOWN is the kernel header's, not libcap's
        assert c.cap_from_name("cap_chown", value) == 0
        assert c.cap_to_name(value[0]) == "cap_chown"
        flag = c.ffi.new("cap_flag_value_t *")
        assert c.cap_get_flag(caps, value[0], c.CAP_EFFECTIVE, flag) == 0
        assert flag[0] == c.CAP_SET
    finally:
        c.cap_free(caps)


def check_harfbuzz(h: pyffi.Library) -> None:
    # HB_TAG('L','a','t','n'): an enumerator cffi's parser refuses, evaluated by pyffi
    assert h.HB_SCRIPT_LATIN == 0x4C61746E
    assert h.hb_script_from_string(b"Latn", 4) == h.HB_SCRIPT_LATIN
    assert h.hb_version_atleast(1, 0, 0)


def check_fribidi(f: pyffi.Library) -> None:
    # the bidi types come from an X-macro list #included inside the enum's body
    assert f.fribidi_get_bidi_type(0x05D0) == f.FRIBIDI_TYPE_RTL  # HEBREW LETTER ALEF
    assert f.fribidi_get_bidi_type(ord("a")) == f.FRIBIDI_TYPE_LTR


def check_tiff(t: pyffi.Library) -> None:
    assert t.TIFFGetVersion().startswith("LIBTIFF")
    assert "TIFFSetErrorHandler" in t.skipped  # a va_list callback type: said, not missing


def check_freetype(f: pyffi.Library) -> None:
    library = f.ffi.new("FT_Library *")
    assert f.FT_Init_FreeType(library) == 0
    try:
        major, minor, patch = (f.ffi.new("FT_Int *") for _ in range(3))
        f.FT_Library_Version(library[0], major, minor, patch)
        assert major[0] == 2
    finally:
        assert f.FT_Done_FreeType(library[0]) == 0
    assert {"FT_Select_Charmap", "FT_Error_String"} <= set(f.functions())


def check_glib(g: pyffi.Library) -> None:
    assert g.g_utf8_strlen("héllo", -1) == 5
    assert g.glib_check_version(2, 0, 0) is None  # NULL: this glib is at least 2.0


def check_magic(m: pyffi.Library) -> None:
    cookie = m.magic_open(m.MAGIC_MIME_TYPE)
    try:
        assert m.magic_load(cookie, None) == 0
        assert m.magic_buffer(cookie, b"%PDF-1.4\n%\xe2\xe3\n", 13) == "application/pdf"
    finally:
        m.magic_close(cookie)
    assert m.magic_version() == m.MAGIC_VERSION


def check_brotlienc(b: pyffi.Library) -> None:
    data = b"brotli " * 1000
    out, n = bytearray(b.BrotliEncoderMaxCompressedSize(len(data))), b.ffi.new("size_t *")
    n[0] = len(out)
    assert (
        b.BrotliEncoderCompress(
            b.BROTLI_DEFAULT_QUALITY,
            b.BROTLI_DEFAULT_WINDOW,
            b.BROTLI_MODE_TEXT,
            len(data),
            data,
            n,
            out,
        )
        == 1
    )
    assert 0 < n[0] < 100
    assert b.BROTLI_DEFAULT_QUALITY == 11


LIBRARIES: dict[str, tuple[str, str, dict[str, Any], Callable[..., None], list[str]]] = {
    "zlib": ("z", "zlib.h", {}, check_zlib, ["deflate", "inflate", "crc32"]),
    "sqlite3": (
        "sqlite3",
        "sqlite3.h",
        {"owned": {"sqlite3_mprintf": "sqlite3_free"}},
        check_sqlite3,
        ["sqlite3_open", "sqlite3_exec", "sqlite3_prepare_v2"],
    ),
    "libpng": ("png16", "png.h", {}, check_png, ["png_create_read_struct", "png_read_info"]),
    "jansson": ("jansson", "jansson.h", {}, check_jansson, ["json_loads", "json_dumps"]),
    "libcurl": ("curl", "curl/curl.h", {}, check_curl, ["curl_easy_init", "curl_easy_setopt"]),
    "libxml2": (
        "xml2",
        "libxml2/libxml/parser.h",
        {"include_dirs": ["/usr/include/libxml2"]},
        check_xml2,
        ["xmlReadMemory", "xmlFreeDoc"],
    ),
    "libcrypto": ("crypto", "openssl/sha.h", {}, check_crypto, ["SHA256", "SHA512"]),
    "pcre2": (
        "pcre2-8",
        "pcre2.h",
        {"defines": {"PCRE2_CODE_UNIT_WIDTH": "8"}},
        check_pcre2,
        ["pcre2_compile_8", "pcre2_match_8"],
    ),
    "gmp": ("gmp", "gmp.h", {}, check_gmp, ["__gmpz_init", "__gmpz_add"]),
    "libgit2": ("git2", "git2.h", {}, check_git2, ["git_repository_open", "git_oid_fromstr"]),
    "libsodium": ("sodium", "sodium.h", {}, check_sodium, ["sodium_init", "crypto_box_easy"]),
    "lz4": ("lz4", "lz4.h", {}, check_lz4, ["LZ4_compress_default"]),
    "bzip2": ("bz2", "bzlib.h", {}, check_bz2, ["BZ2_bzBuffToBuffCompress"]),
    "xz": ("lzma", "lzma.h", {}, check_lzma, ["lzma_easy_buffer_encode", "lzma_code"]),
    "zstd": ("zstd", "zstd.h", {}, check_zstd, ["ZSTD_compress", "ZSTD_decompress"]),
    "expat": ("expat", "expat.h", {}, check_expat, ["XML_ParserCreate", "XML_Parse"]),
    "libuv": ("uv", "uv.h", {}, check_uv, ["uv_run", "uv_timer_start"]),
    "libarchive": ("archive", "archive.h", {}, check_archive, ["archive_read_new"]),
    "xxhash": ("xxhash", "xxhash.h", {}, check_xxhash, ["XXH64", "XXH3_64bits"]),
    "libyaml": ("yaml", "yaml.h", {}, check_yaml, ["yaml_parser_parse"]),
    "libuuid": ("uuid", "uuid/uuid.h", {}, check_uuid, ["uuid_generate", "uuid_parse"]),
    "libmagic": ("magic", "magic.h", {}, check_magic, ["magic_open", "magic_buffer"]),
    "brotli": ("brotlienc", "brotli/encode.h", {}, check_brotlienc, ["BrotliEncoderCompress"]),
    # their own headers under sys/ (libacl's sys/acl.h, libcap's sys/capability.h)
    "libacl": ("acl", "acl/libacl.h", {}, check_acl, ["acl_init", "acl_from_text", "acl_free"]),
    "libcap": ("cap", "sys/capability.h", {}, check_cap, ["cap_from_text", "cap_get_flag"]),
    "harfbuzz": (
        "harfbuzz",
        "harfbuzz/hb.h",
        {"include_dirs": ["/usr/include/harfbuzz"]},
        check_harfbuzz,
        ["hb_buffer_create", "hb_shape", "hb_script_from_string"],
    ),
    "fribidi": (
        "fribidi",
        "fribidi/fribidi.h",
        {"include_dirs": ["/usr/include/fribidi"]},
        check_fribidi,
        ["fribidi_get_bidi_type", "fribidi_log2vis"],
    ),
    "libtiff": ("tiff", "tiffio.h", {}, check_tiff, ["TIFFOpen", "TIFFGetVersion"]),
    "freetype": (
        "freetype",
        "freetype2/freetype/freetype.h",
        {"include_dirs": ["/usr/include/freetype2"]},
        check_freetype,
        ["FT_Init_FreeType", "FT_Select_Charmap"],
    ),
    "glib": (
        "glib-2.0",
        "glib-2.0/glib.h",
        {"include_dirs": ["/usr/include/glib-2.0", f"/usr/lib/{MULTIARCH}/glib-2.0/include"]},
        check_glib,
        ["g_utf8_strlen", "g_log_set_handler", "g_hash_table_new"],
    ),
}


def _exported(path: str) -> set[str]:
    out = subprocess.run(
        ["nm", "-D", "--defined-only", path], capture_output=True, text=True, check=True
    ).stdout
    return {  # name@@VERSION: the name
        parts[2].split("@")[0]
        for parts in map(str.split, out.splitlines())
        if len(parts) == 3 and parts[1] == "T"
    }


EXPORTS_CHECKED = ["libacl", "libcap", "zlib", "libuv", "harfbuzz", "fribidi", "libtiff"]


@pytest.mark.parametrize("name", [*EXPORTS_CHECKED, "freetype", "glib"])
def test_every_exported_function_the_headers_declare_is_callable_or_skipped(name: str) -> None:
    """A declared name is never silently missing: each function the library exports and
    its headers declare is a function of the Library, or skipped with the reason."""
    libname, hdr, kw, _check, _functions = LIBRARIES[name]
    lib = load(libname, hdr, **kw)
    path = ctypes.util.find_library(libname)
    full = next(
        (
            str(p)
            for d in ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib")
            for p in [Path(d) / str(path)]
            if path and p.exists()
        ),
        None,
    )
    if full is None:
        pytest.skip(f"lib{libname} not found")
    dirs = [arg for d in kw.get("include_dirs", []) for arg in ("-I", d)]
    text = subprocess.run(
        ["cc", "-E", "-I", pyffi.get_include(), *dirs, str(header(hdr))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    declared = {w for w in re.findall(r"\b(\w+)\s*\(", text)}
    missing = sorted(
        f for f in _exported(full) & declared if f not in lib.functions() and f not in lib.skipped
    )
    assert not missing, missing


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # scripts/test shares one cache over its runs; else a fresh one per session
    shared = os.environ.get("PYFFI_CACHE_DIR")
    return Path(shared) if shared else tmp_path_factory.mktemp("pyffi-cache")


@pytest.mark.parametrize("name", sorted(LIBRARIES))
def test_real_library(
    name: str, tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYFFI_CACHE_DIR", str(cache_dir))
    libname, hdr, kw, check, functions = LIBRARIES[name]
    if name == "libarchive":  # the user's own umbrella header works the same way
        umbrella = tmp_path / "archive_all.h"
        umbrella.write_text("#include <archive.h>\n#include <archive_entry.h>\n")
        lib = pyffi.load(libname, umbrella, **kw)
    else:
        lib = load(libname, hdr, **kw)
    assert set(functions) <= set(lib.functions()), sorted(set(functions) - set(lib.functions()))
    assert lib.constants, "no constants"
    # nothing of libc leaks in: no printf, malloc or FILE functions
    assert not {"printf", "malloc", "free", "fopen"} & set(lib.functions())
    if check is check_curl:
        check(lib, tmp_path)
    else:
        check(lib)


def test_the_umbrella_headers_load_their_sub_headers() -> None:
    for libname, hdr, at_least in (
        ("git2", "git2.h", 500),
        ("sodium", "sodium.h", 400),
        ("lzma", "lzma.h", 50),
    ):
        assert len(load(libname, hdr).functions()) >= at_least, hdr


def test_macro_aliases_are_callable() -> None:
    pcre = load("pcre2-8", "pcre2.h", defines={"PCRE2_CODE_UNIT_WIDTH": "8"})
    assert pcre.pcre2_compile is pcre.pcre2_compile_8
    gmp = load("gmp", "gmp.h")
    assert gmp.mpz_add is gmp.__gmpz_add


def test_skip_reasons_name_the_file_and_line() -> None:
    s = load("sqlite3", "sqlite3.h")
    why = s.skipped["sqlite3_vmprintf"]
    assert why.startswith(f"has a va_list parameter ({header('sqlite3.h')}:")
    with pytest.raises(AttributeError, match=r"'sqlite3_vmprintf' has a va_list parameter"):
        s.sqlite3_vmprintf
    z = load("z", "zlib.h")
    assert "function-like macro" in z.skipped["deflateInit"]  # a macro for deflateInit_
    with pytest.raises(pyffi.DeclarationError, match="strict=True"):
        load("jansson", "jansson.h", strict=True)


def test_constants_are_what_the_compiler_says(tmp_path: Path) -> None:
    """The compiler is the judge: a C program prints every integer and string constant."""
    cases = [
        ("z", "zlib.h", {}, []),
        ("lz4", "lz4.h", {}, []),  # LZ4_VERSION_STRING: #x of 1.9.4, spelled without spaces
        ("zstd", "zstd.h", {}, []),
        ("sqlite3", "sqlite3.h", {}, []),
        ("curl", "curl/curl.h", {}, []),
        ("pcre2-8", "pcre2.h", {"PCRE2_CODE_UNIT_WIDTH": "8"}, []),
    ]
    for libname, hdr, defines, _ in cases:
        lib = load(libname, hdr, defines=defines)
        consts = {k: v for k, v in lib.constants.items() if isinstance(v, (int, str))}
        lines = [f"#include <{hdr}>", "#include <stdio.h>", "int main(void) {"]
        for k, v in consts.items():
            if isinstance(v, str):
                lines.append(f'  printf("%s\\t%s\\n", "{k}", {k});')
            else:
                lines.append(
                    f'  printf("%s\\t%s\\t%lld\\t%llu\\n", "{k}", ({k}) < 0 ? "-" : "+", '
                    f"(long long)({k}), (unsigned long long)({k}));"
                )
        lines.append("  return 0; }")
        src = tmp_path / f"{libname}.c"
        src.write_text("\n".join(lines))
        exe = tmp_path / libname
        flags = [f"-D{k}={v}" for k, v in defines.items()]
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        subprocess.run(["cc", "-w", *flags, str(src), "-o", str(exe)], check=True, env=env)
        out = subprocess.run([str(exe)], capture_output=True, check=True, env=env).stdout.decode()
        for line in out.splitlines():
            parts = line.split("\t")
            k = parts[0]
            if isinstance(consts[k], str):
                assert consts[k] == parts[1], k
            else:
                want = int(parts[2]) if parts[1] == "-" else int(parts[3])
                assert consts[k] == want, (libname, k, consts[k], want)
        assert len(out.splitlines()) == len(consts)


def test_cached_load_in_a_fresh_process(tmp_path: Path) -> None:
    env = {**os.environ, "PYFFI_CACHE_DIR": str(tmp_path)}
    code = (
        "import pyffi, sys, time; t = time.perf_counter(); "
        f"lib = pyffi.load('sqlite3', {str(header('sqlite3.h'))!r}); "
        "print(time.perf_counter() - t, len(lib.functions()), lib.sqlite3_libversion())"
    )
    cmd = [sys.executable, *SAFE_PATH, "-c", code]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split()[1:] == second.stdout.split()[1:]
    assert len(list(tmp_path.glob("*.json"))) == 1
