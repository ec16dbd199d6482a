"""OSV records of distribution ecosystems, written by hand in the published formats.

Each follows the shape its source publishes on osv.dev (fields, ecosystem strings, event
and version spellings): Debian's DSA/DLA advisories (aliases, one entry per release, no
severity) and DEBIAN-CVE records (``upstream``, ``ecosystem_specific.urgency``, NVD's CVSS);
Ubuntu's UBUNTU-CVE records (``upstream``, the ``Ubuntu`` priority severity, ``:LTS`` and
``:Pro:`` releases, affected ``versions`` lists, ``binaries``) and USN notices; Alpine's
ALPINE-CVE records (``Alpine:vX.Y``, the origin package); Rocky's RLSA and AlmaLinux's ALSA
errata (binary package names, ``epoch:version-release`` fixes, the Red Hat severity word
in the summary); Red Hat's RHSA (``Red Hat:enterprise_linux:9::baseos``). The versions are
those of the real advisories for CVE-2023-0286 (OpenSSL X.400 type confusion), CVE-2023-5363
and CVE-2010-4756.
"""

from __future__ import annotations

from typing import Any

CVSS_2023_0286 = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H"  # 7.4


def _entry(
    ecosystem: str,
    name: str,
    fixed: str | None,
    **extra: Any,
) -> dict[str, Any]:
    events: list[dict[str, str]] = [{"introduced": "0"}]
    if fixed is not None:
        events.append({"fixed": fixed})
    return {
        "package": {"ecosystem": ecosystem, "name": name},
        "ranges": [{"type": "ECOSYSTEM", "events": events}],
        **extra,
    }


DEBIAN_CVE_2023_0286 = {
    "id": "DEBIAN-CVE-2023-0286",
    "modified": "2024-09-03T04:38:36Z",
    "published": "2023-02-08T20:15:23Z",
    "upstream": ["CVE-2023-0286"],
    "details": "There is a type confusion vulnerability relating to X.400 address processing "
    "inside an X.509 GeneralName.",
    "severity": [{"type": "CVSS_V3", "score": CVSS_2023_0286}],
    "affected": [
        _entry(
            "Debian:10",
            "openssl",
            "1.1.1n-0+deb10u4",
            ecosystem_specific={"urgency": "not yet assigned"},
        ),
        _entry(
            "Debian:11",
            "openssl",
            "1.1.1n-0+deb11u4",
            ecosystem_specific={"urgency": "not yet assigned"},
        ),
        _entry(
            "Debian:12", "openssl", "3.0.8-1", ecosystem_specific={"urgency": "not yet assigned"}
        ),
        _entry(
            "Debian:13", "openssl", "3.0.8-1", ecosystem_specific={"urgency": "not yet assigned"}
        ),
    ],
    "references": [
        {"type": "ADVISORY", "url": "https://security-tracker.debian.org/tracker/CVE-2023-0286"}
    ],
}

DLA_3325_1 = {
    "id": "DLA-3325-1",
    "summary": "openssl - security update",
    "published": "2023-02-20T00:00:00Z",
    "modified": "2023-02-20T00:00:00Z",
    "aliases": [
        "CVE-2022-2097",
        "CVE-2022-4304",
        "CVE-2022-4450",
        "CVE-2023-0215",
        "CVE-2023-0286",
    ],
    "details": "Multiple vulnerabilities were discovered in OpenSSL.",
    "affected": [_entry("Debian:10", "openssl", "1.1.1n-0+deb10u4")],
    "references": [{"type": "ADVISORY", "url": "https://www.debian.org/lts/security/dla-3325-1"}],
}

DSA_5532_1 = {
    "id": "DSA-5532-1",
    "summary": "openssl - security update",
    "published": "2023-10-24T00:00:00Z",
    "modified": "2023-10-24T00:00:00Z",
    "aliases": ["CVE-2023-5363"],
    "details": "Tony Battersby reported that incorrect cipher key and IV length processing may "
    "result in loss of confidentiality for some symmetric cipher modes.",
    "affected": [_entry("Debian:12", "openssl", "3.0.11-1~deb12u2")],
    "references": [{"type": "ADVISORY", "url": "https://www.debian.org/security/2023/dsa-5532"}],
}

# An open issue the security team rates "unimportant", and one the release no longer gets
# fixes for.
DEBIAN_CVE_2010_4756 = {
    "id": "DEBIAN-CVE-2010-4756",
    "modified": "2024-09-03T04:33:19Z",
    "published": "2011-03-02T20:00:01Z",
    "upstream": ["CVE-2010-4756"],
    "details": "The glob implementation in the GNU C Library allows remote authenticated users "
    "to cause a denial of service (CPU and memory consumption) via crafted glob expressions.",
    "severity": [{"type": "CVSS_V2", "score": "AV:N/AC:L/Au:S/C:N/I:N/A:P"}],
    "affected": [
        _entry("Debian:12", "glibc", None, ecosystem_specific={"urgency": "unimportant"}),
    ],
}
DEBIAN_CVE_2024_0727 = {
    "id": "DEBIAN-CVE-2024-0727",
    "modified": "2024-09-03T05:12:51Z",
    "published": "2024-01-26T09:15:07Z",
    "upstream": ["CVE-2024-0727"],
    "details": "Processing a maliciously formatted PKCS12 file may lead OpenSSL to crash "
    "leading to a potential Denial of Service attack.",
    "affected": [
        _entry("Debian:10", "openssl", None, ecosystem_specific={"urgency": "end-of-life"}),
        _entry(
            "Debian:12",
            "openssl",
            "3.0.13-1~deb12u1",
            ecosystem_specific={"urgency": "not yet assigned"},
        ),
    ],
}

UBUNTU_CVE_2023_0286 = {
    "schema_version": "1.6.3",
    "id": "UBUNTU-CVE-2023-0286",
    "upstream": ["CVE-2023-0286"],
    "related": ["USN-5844-1"],
    "details": "There is a type confusion vulnerability relating to X.400 address processing "
    "inside an X.509 GeneralName.",
    "severity": [
        {"type": "CVSS_V3", "score": CVSS_2023_0286},
        {"type": "Ubuntu", "score": "high"},
    ],
    "published": "2023-02-08T20:15:00Z",
    "modified": "2023-02-08T20:15:00Z",
    "affected": [
        {
            **_entry("Ubuntu:Pro:16.04:LTS", "openssl", "1.0.2g-1ubuntu4.20+esm6"),
            "ecosystem_specific": {"availability": "Available with Ubuntu Pro"},
        },
        {
            **_entry("Ubuntu:Pro:18.04:LTS", "openssl", "1.1.1-1ubuntu2.1~18.04.21"),
            "ecosystem_specific": {"availability": "No subscription required"},
        },
        {
            **_entry("Ubuntu:20.04:LTS", "openssl", "1.1.1f-1ubuntu2.17"),
            "versions": ["1.1.1f-1ubuntu2.15", "1.1.1f-1ubuntu2.16"],
        },
        {
            **_entry("Ubuntu:22.04:LTS", "openssl", "3.0.2-0ubuntu1.8"),
            "versions": ["3.0.2-0ubuntu1", "3.0.2-0ubuntu1.6", "3.0.2-0ubuntu1.7"],
            "ecosystem_specific": {
                "binaries": [
                    {"binary_name": "libssl3", "binary_version": "3.0.2-0ubuntu1.8"},
                    {"binary_name": "openssl", "binary_version": "3.0.2-0ubuntu1.8"},
                ],
                "availability": "No subscription required",
            },
        },
        _entry("Ubuntu:Pro:FIPS-updates:22.04:LTS", "openssl", "3.0.2-0ubuntu1.10+fips1"),
    ],
    "references": [
        {"type": "REPORT", "url": "https://ubuntu.com/security/CVE-2023-0286"},
        {"type": "ADVISORY", "url": "https://ubuntu.com/security/notices/USN-5844-1"},
    ],
}
USN_5844_1 = {
    "schema_version": "1.6.3",
    "id": "USN-5844-1",
    "summary": "openssl vulnerabilities",
    "details": "David Benjamin discovered that OpenSSL incorrectly handled X.400 address "
    "processing.",
    "upstream": ["CVE-2022-4203", "CVE-2022-4304", "CVE-2023-0215", "CVE-2023-0286"],
    "published": "2023-02-07T14:17:08Z",
    "modified": "2023-02-07T14:17:08Z",
    "affected": [
        _entry("Ubuntu:22.04:LTS", "openssl", "3.0.2-0ubuntu1.8"),
        _entry("Ubuntu:20.04:LTS", "openssl", "1.1.1f-1ubuntu2.17"),
    ],
}

ALPINE_CVE_2023_0286 = {
    "id": "ALPINE-CVE-2023-0286",
    "modified": "2024-06-06T07:34:52Z",
    "published": "2023-02-08T20:15:23Z",
    "upstream": ["CVE-2023-0286"],
    "details": "There is a type confusion vulnerability relating to X.400 address processing "
    "inside an X.509 GeneralName.",
    "affected": [
        {
            **_entry("Alpine:v3.16", "openssl", "1.1.1t-r0"),
            "package": {
                "ecosystem": "Alpine:v3.16",
                "name": "openssl",
                "purl": "pkg:apk/alpine/openssl?arch=source",
            },
        },
        {
            **_entry("Alpine:v3.17", "openssl", "3.0.8-r0"),
            "package": {
                "ecosystem": "Alpine:v3.17",
                "name": "openssl",
                "purl": "pkg:apk/alpine/openssl?arch=source",
            },
        },
    ],
    "references": [
        {"type": "ADVISORY", "url": "https://security.alpinelinux.org/vuln/CVE-2023-0286"}
    ],
}

# Rocky and AlmaLinux errata name the binary packages of the update; Red Hat names both.
RLSA_2023_0946 = {
    "schema_version": "1.6.0",
    "id": "RLSA-2023:0946",
    "summary": "Important: openssl security and bug fix update",
    "details": "OpenSSL is a toolkit that implements the Secure Sockets Layer (SSL) and "
    "Transport Layer Security (TLS) protocols, as well as a full-strength general-purpose "
    "cryptography library.",
    "upstream": [
        "CVE-2022-4203",
        "CVE-2022-4304",
        "CVE-2022-4450",
        "CVE-2023-0215",
        "CVE-2023-0216",
        "CVE-2023-0217",
        "CVE-2023-0286",
        "CVE-2023-0401",
    ],
    "published": "2023-02-28T06:55:02Z",
    "modified": "2023-02-28T06:55:02Z",
    "affected": [
        _entry("Rocky Linux:9", "openssl", "1:3.0.1-47.el9_1"),
        _entry("Rocky Linux:9", "openssl-devel", "1:3.0.1-47.el9_1"),
        _entry("Rocky Linux:8", "openssl", "1:1.1.1k-9.el8_7"),
    ],
    "database_specific": {"source_advisory": "RHSA-2023:0946"},
}
ALSA_2023_0946 = {
    "schema_version": "1.6.0",
    "id": "ALSA-2023:0946",
    "summary": "Important: openssl security and bug fix update",
    "details": "OpenSSL is a toolkit that implements the Secure Sockets Layer (SSL) and "
    "Transport Layer Security (TLS) protocols.",
    "related": ["CVE-2023-0286", "CVE-2023-0215"],
    "published": "2023-02-28T00:00:00Z",
    "modified": "2023-03-01T00:00:00Z",
    "affected": [
        _entry("AlmaLinux:9", "openssl-libs", "1:3.0.1-47.el9_1"),
        _entry("AlmaLinux:9", "openssl", "1:3.0.1-47.el9_1"),
    ],
}
RHSA_2023_0946 = {
    "schema_version": "1.7.0",
    "id": "RHSA-2023:0946",
    "summary": "Red Hat Security Advisory: openssl security and bug fix update",
    "upstream": ["CVE-2023-0286", "CVE-2023-0215"],
    "severity": [{"type": "CVSS_V3", "score": CVSS_2023_0286}],
    "published": "2023-02-28T06:55:02Z",
    "modified": "2024-11-22T00:00:00Z",
    "affected": [
        {
            **_entry("Red Hat:enterprise_linux:9::baseos", "openssl-libs", "1:3.0.1-47.el9_1"),
            "package": {
                "ecosystem": "Red Hat:enterprise_linux:9::baseos",
                "name": "openssl-libs",
                "purl": "pkg:rpm/redhat/openssl-libs@3.0.1-47.el9_1?arch=x86_64&epoch=1",
            },
        },
        _entry("Red Hat:rhel_eus:9.0::baseos", "openssl-libs", "1:3.0.1-46.el9_0"),
    ],
}

DISTRO_RECORDS = (
    DEBIAN_CVE_2023_0286,
    DLA_3325_1,
    DSA_5532_1,
    DEBIAN_CVE_2010_4756,
    DEBIAN_CVE_2024_0727,
    UBUNTU_CVE_2023_0286,
    USN_5844_1,
    ALPINE_CVE_2023_0286,
    RLSA_2023_0946,
    ALSA_2023_0946,
    RHSA_2023_0946,
)
