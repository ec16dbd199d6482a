"""Fetch the honest-release corpus of the verdict benchmark into bench/.work/verdict/.

Nothing is built, installed or run: packages are downloaded as files.

- PyPI: the most downloaded N projects (registry-popularity list): the newest wheel and,
  for the first ``--sdists`` of them, the sdist.
- npm: the most downloaded N packages, ``npm pack --ignore-scripts`` (a tarball only).
- Debian: ``apt-get download`` of a fixed list (ELF programs and libraries, Go and Rust
  programs, test keys, Java libraries, Python modules).
- jars: the jar files shipped inside the Debian Java library packages, copied out of the
  package's data tarball (read with Python's tarfile, never unpacked onto the system).
- images: ``docker save`` tarballs assembled without a daemon from downloaded Debian
  packages: every package's data tarball is one layer, and a last layer holds the dpkg
  database (status written from the packages' control files, and each package's
  ``info/<package>.list`` file list), like a real image.

- blind parts (``fresh``, ``fresh2``, ... then ``fresh6``): fetched after the corpus before
  them had been examined and tuned on: the next ``--fresh`` PyPI and npm projects by
  popularity and a Debian list of their own, every family new (none shares its first word
  with an earlier part), in ``*-fresh`` to ``*-fresh6`` folders. A blind part
  is examined once by the code of its round's end and reported; after that it counts as seen.

    python bench/verdict/fetch.py [--pypi 250] [--npm 250] [--sdists 40] [--fresh 150]
"""

from __future__ import annotations

import argparse
import io
import json
import posixpath
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "behavior"))
from families import family
from fetch import fetch_npm, fetch_pypi, top_npm, top_pypi

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench" / ".work" / "verdict"
# Artifacts bigger than this are left out (GPU runtimes of several hundred MB): they would
# dominate the run time without adding kinds of content the corpus lacks.
MAX_BYTES = 120 * 1024 * 1024

DEBIAN = [
    # ELF programs and libraries (the examples first)
    "bash", "coreutils", "openssl", "libssl3", "libgnutls30", "curl", "libcurl4",
    "python3.11-minimal", "libpython3.11-minimal", "perl-base", "git", "openssh-client",
    "openssh-server", "gnupg", "gpg", "sqlite3", "libsqlite3-0", "zlib1g", "busybox",
    "util-linux", "tar", "gzip", "xz-utils", "wget", "ca-certificates", "libc6", "dpkg",
    "apt", "nginx-core", "apache2-bin", "libnss3", "ssl-cert", "sudo", "systemd",
    "redis-server", "postgresql-client-15", "nodejs", "libjs-jquery",
    # Go and Rust programs
    "age", "ripgrep", "restic", "fd-find",
    # Python modules as Debian ships them
    "python3-paramiko", "python3-cryptography", "python3-requests", "python3-django",
    "python3-oauthlib", "python3-passlib",
    # Java libraries (their jars are also taken out as standalone artifacts)
    "libcommons-lang3-java", "libcommons-io-java", "libcommons-codec-java",
    "libcommons-compress-java", "libcommons-collections4-java", "libjackson2-core-java",
    "libguava-java", "libbcprov-java", "liblog4j2-java", "libslf4j-java",
]  # fmt: skip
JAR_PACKAGES = [name for name in DEBIAN if name.endswith("-java")]

# The fresh part's Debian packages: network and debugging tools (dual-use by nature: ptrace,
# raw sockets, reverse connections), more Go and Rust programs, libraries with ELF code,
# interpreters and servers. Chosen by kind, before any of them was examined.
DEBIAN_FRESH = [
    "rsync", "tmux", "vim-tiny", "less", "jq", "libxml2", "libpng16-16", "libjpeg62-turbo",
    "libzstd1", "bzip2", "iproute2", "procps", "findutils", "grep", "sed", "haproxy",
    "memcached", "krb5-user", "libldap-2.5-0", "openvpn", "bind9-dnsutils",
    "netcat-openbsd", "socat", "nmap", "tcpdump", "strace", "gdb", "lsof", "ruby3.1",
    "php8.2-cli", "lua5.4", "runc", "hugo", "bat", "hyperfine", "libjna-java",
    "libjsoup-java", "libxz-java", "unzip", "zip", "file", "e2fsprogs", "cron",
]  # fmt: skip
# The third part's, chosen the same way after the second part had been examined once.
DEBIAN_FRESH2 = [
    "postfix", "dnsmasq-base", "iptables", "nftables", "chrony", "squid", "mosquitto",
    "unbound", "wireguard-tools", "iperf3", "mtr-tiny", "traceroute", "whois", "telnet",
    "p7zip-full", "zstd", "pigz", "lz4", "htop", "ncdu", "tree", "screen", "fzf", "caddy",
    "rclone", "zoxide", "du-dust", "tealdeer", "exa", "libyaml-0-2", "libevent-2.1-7",
    "libarchive13", "libcap2-bin", "mariadb-client", "libhiredis0.14", "libjackson2-databind-java",
]  # fmt: skip
# Blind parts in the order they were fetched: each is examined once by the code of its
# round's end, then may be tuned on like the dev part, and the next one is the blind one.
# The fourth part's: clients, crypto tools and libraries, password crackers and packet tools
# (dual-use), container tools, Go and Rust programs, Java server libraries.
DEBIAN_FRESH3 = [
    "mutt", "irssi", "lynx", "w3m", "aria2", "dropbear-bin", "openconnect", "stunnel4",
    "sshpass", "fail2ban", "keepalived", "conntrack", "ethtool", "arping", "hping3", "ngrep",
    "tshark", "john", "hashcat", "gocryptfs", "minisign", "cryptsetup-bin", "gnutls-bin",
    "libsodium23", "libgcrypt20", "skopeo", "gh", "direnv", "prometheus-node-exporter",
    "hexyl", "lsd", "sd", "libnetty-java", "libhttpclient-java", "libjetty9-java", "ufw",
]  # fmt: skip
# The fifth part's: mail, web and DNS servers, routing daemons, a database server, backup and
# sync tools, monitoring agents, file-sharing clients, document and image tools, container
# and configuration tools, reverse-engineering and malware-scanning tools (dual-use), small
# Go and Rust programs, Java server libraries.
DEBIAN_FRESH4 = [
    "exim4-daemon-light", "dovecot-core", "lighttpd", "varnish", "mariadb-server-core",
    "knot-dnsutils", "pdns-server", "bird2", "frr", "syncthing", "borgbackup", "duplicity",
    "rsnapshot", "sysstat", "monit", "nagios-nrpe-server", "snmp", "ldap-utils", "smbclient",
    "cifs-utils", "nfs-common", "imagemagick-6.q16", "ghostscript", "poppler-utils", "qpdf",
    "tesseract-ocr", "libimage-exiftool-perl", "buildah", "podman", "containerd",
    "kubernetes-client", "ansible-core", "puppet-agent", "radare2", "binwalk", "yara",
    "clamav", "bpftrace", "elfutils", "micro", "gron", "jo", "pv", "parallel",
    "libtomcat9-java", "libxerces2-java", "libbcpkix-java", "libspring-core-java",
]  # fmt: skip
# The sixth part's: print, chat, FTP, proxy, VPN, directory, time, DHCP and mail-filter
# servers, anonymity networks, interpreters and editors, media and image tools, disk and
# file-system tools, Go and Rust programs (container engine, monitoring, databases),
# offensive security tools (dual-use: scanners, crackers, injection), Java database drivers.
DEBIAN_FRESH5 = [
    "cups-daemon", "prosody", "inspircd", "vsftpd", "proftpd-core", "tftpd-hpa", "privoxy",
    "tinyproxy", "strongswan-charon", "ocserv", "slapd", "ntpsec", "isc-dhcp-server",
    "kea-dhcp4-server", "spamassassin", "opendkim", "rspamd", "nsd", "coturn", "tor", "i2pd",
    "sshguard", "tcl8.6", "guile-3.0", "nano", "sox", "libvips42", "graphicsmagick", "ffmpeg",
    "mpv", "qemu-utils", "btrfs-progs", "xfsprogs", "pass", "etcd-server", "mkcert", "vivid",
    "sccache", "prometheus", "influxdb", "docker.io", "lftp", "transmission-cli", "masscan",
    "sqlmap", "hydra", "proxychains4", "aircrack-ng", "libpostgresql-jdbc-java",
    "libmariadb-java", "libgoogle-gson-java", "libh2-java",
]  # fmt: skip
# The seventh part's: build tools, version control, shells, interpreters, editors and file
# managers, download and traffic tools, host-integrity and rootkit scanners (dual-use: they
# list what malware does), sandboxes, mail clients and delivery agents, application
# servers, Go and Rust programs, Java libraries, JavaScript libraries as Debian ships them.
DEBIAN_FRESH6 = [
    "cmake", "ninja-build", "meson", "scons", "mercurial", "subversion", "fossil", "zsh",
    "fish", "ksh", "erlang-base", "elixir", "gawk", "bc", "mc", "ranger", "neovim", "joe",
    "axel", "iftop", "nload", "vnstat", "bmon", "aide", "rkhunter", "chkrootkit", "lynis",
    "auditd", "firejail", "bubblewrap", "tinc", "neomutt", "alpine", "fetchmail", "procmail",
    "msmtp", "isync", "lmdb-utils", "uwsgi-core", "gunicorn", "gopass", "duf", "yq",
    "rust-coreutils", "nasm", "tcc", "libhikaricp-java", "libquartz2-java",
    "libfreemarker-java", "libjs-bootstrap4", "node-axios",
]  # fmt: skip
# The eighth part's: database, cache, broker and web servers, remote-access servers, backup
# and sync tools, tracing and kernel tools, forensic and offensive tools (dual-use: sniffers,
# spoofers, brute-forcers, steganography), chat and feed clients, numeric and geodata
# libraries, Go programs, Java libraries, JavaScript libraries as Debian ships them.
DEBIAN_FRESH7 = [
    "redis-server", "apache2-bin", "nginx-core", "postgresql-client-15", "pgbouncer",
    "rabbitmq-server", "x11vnc", "xrdp", "openssh-server", "mosh", "autossh", "restic",
    "rdiff-backup", "unison", "kmod", "bpfcc-tools", "ltrace", "valgrind", "dirb", "medusa",
    "ettercap-text-only", "dsniff", "netdiscover", "macchanger", "steghide", "foremost",
    "sleuthkit", "testdisk", "wfuzz", "weechat-curses", "newsboat", "fd-find", "git-lfs",
    "libopenblas0-pthread", "libhdf5-103-1", "libgdal32", "libxstream-java",
    "libcommons-net-java", "libapache-poi-java", "libjs-jquery", "node-lodash", "libjs-d3",
]  # fmt: skip
# The ninth part's: desktop and system daemons (network, audio, Bluetooth, devices, policy),
# storage and file-sharing servers, language runtimes and application servers, monitoring
# agents, host and network intrusion detection, password crackers and DNS reconnaissance
# (dual-use), Go and Rust programs, Java libraries (one end-of-life), JavaScript libraries as
# Debian ships them.
DEBIAN_FRESH8 = [
    "network-manager", "bluez", "pipewire-bin", "pulseaudio", "avahi-daemon", "cups-browsed",
    "udisks2", "upower", "polkitd", "lvm2", "mdadm", "nfs-kernel-server", "samba",
    "open-iscsi", "multipath-tools", "nodejs", "php8.2-fpm", "tomcat10", "jetty9",
    "zabbix-agent", "collectd-core", "munin-node", "apparmor", "tripwire", "suricata", "tiger",
    "ophcrack-cli", "fcrackzip", "dnsenum", "dnsrecon", "sslscan", "delve", "gopls",
    "alacritty", "git-absorb", "liblog4j1.2-java", "libcommons-text-java",
    "libspring-web-java", "libjackson2-dataformat-yaml", "libjs-jquery-ui", "node-express",
    "node-ws", "libjs-bootstrap5",
]  # fmt: skip
# The tenth part's: wireless, VPN and low-level network daemons, passive sniffers and
# fingerprinting, web and Windows-network offensive tools, wordlist generators and WPS
# crackers (dual-use), secret scanners (they carry credential patterns), secure deletion and
# encrypted storage, smart-card and key tools, virtualization and image-building tools,
# database servers, documentation tools, Haskell, Go and Rust programs, Java libraries,
# JavaScript libraries as Debian ships them.
DEBIAN_FRESH9 = [
    "hostapd", "wpasupplicant", "iw", "sslh", "dante-server", "torsocks", "arpwatch", "p0f",
    "darkstat", "netsniff-ng", "nikto", "python3-impacket", "chntpw", "crunch", "cewl",
    "reaver", "gitleaks", "secure-delete", "wipe", "ecryptfs-utils", "opensc", "pcscd",
    "yubikey-manager", "keyutils", "haveged", "libvirt-daemon", "lxc", "debootstrap",
    "apt-cacher-ng", "postgresql-15", "doxygen", "graphviz", "shellcheck", "git-delta",
    "libjsch-java", "libmina2-java", "libjs-underscore", "node-moment",
]  # fmt: skip
# The eleventh part's: scanners, sound and desktop daemons, spell checkers, window and
# display managers, PAM and two-factor modules (they handle secrets), ACME clients, DNS
# tools, mail servers, PHP web applications with sample configurations (webmail, blog,
# database admin), monitoring and log daemons, backup agents, GIS tools, Rust programs, Java
# logging and pooling libraries, JavaScript libraries as Debian ships them.
DEBIAN_FRESH10 = [
    "sane-utils", "alsa-utils", "jackd2", "aspell", "hunspell", "i3-wm", "lightdm",
    "libpam-google-authenticator", "certbot", "dehydrated", "ldnsutils", "opensmtpd",
    "roundcube-core", "wordpress", "phpmyadmin", "icinga2-bin", "rsyslog", "syslog-ng-core",
    "bacula-fd", "gdal-bin", "xterm", "openbox", "tokei", "liblogback-java",
    "libcommons-dbcp2-java", "node-semver", "node-debug", "libjs-underscore.string",
]  # fmt: skip
# The twelfth part's: RADIUS, DNS, telephony and dial-up servers (they ship sample secrets),
# network monitoring web applications, wikis and git hosting, mail filters, load testers,
# discovery and SNMP scanners (dual-use), one-time-password and signing tools, a password
# manager, calendar servers, file-system tools, Java XML libraries, JavaScript libraries as
# Debian ships them.
DEBIAN_FRESH11 = [
    "freeradius", "bind9", "asterisk", "kamailio", "ppp", "netdata-core", "cacti", "dokuwiki",
    "gitolite3", "amavisd-new", "siege", "apache2-utils", "arp-scan", "nbtscan",
    "onesixtyone", "oathtool", "signify-openbsd", "kpcli", "radicale", "sshfs",
    "libxmlsec-java", "libjaxb-api-java", "node-uuid", "node-chalk",
    "libjs-jquery-datatables",
]  # fmt: skip
# The thirteenth part's: identity and directory clients, port knocking and intrusion
# response, hardware and power management (IPMI, UPS, disk health), firmware and boot
# signing, repository and package-building tools, cluster and high-availability daemons, web
# applications with sample configurations (wiki, mailing lists, video surveillance,
# monitoring front end, mail administration), a game server, password generators and secret
# sharing, Android reverse-engineering tools (dual-use), Go and Rust programs, Java libraries.
DEBIAN_FRESH12 = [
    "heimdal-kdc", "sssd-common", "nslcd", "fwknop-server", "knockd", "psad", "portsentry",
    "ipmitool", "freeipmi-tools", "nut-server", "apcupsd", "smartmontools", "fwupd",
    "mokutil", "sbsigntool", "efibootmgr", "reprepro", "aptly", "createrepo-c", "alien",
    "corosync", "pacemaker", "drbd-utils", "mediawiki", "mailman3", "zoneminder",
    "icingaweb2", "postfixadmin", "minetest-server", "pwgen", "makepasswd", "ssss",
    "paperkey", "apktool", "dex2jar", "gdu", "just", "sniffglue", "libjakarta-mail-java",
    "libsnakeyaml-java", "libxalan2-java",
]  # fmt: skip
# The fourteenth part's: cluster and HPC tools, media and streaming servers, package-building
# tools, a reverse proxy, remote-desktop servers and clients, web applications with sample
# configurations (database admin, log statistics, git browser, mailing lists, ticketing,
# monitoring front end, directory admin), VPN and DNS servers, IMAP servers and mail tools,
# offensive tools (dual-use: hash identification, brute-forcers, web and VoIP scanners,
# layer-2 attacks), Go and Rust programs (a cloud CLI, an ACME client, a file relay), Java
# JOSE and OpenPGP libraries.
DEBIAN_FRESH13 = [
    "slurm-client", "openmpi-bin", "hwloc", "icecast2", "mpd", "minidlna", "sbuild",
    "pbuilder", "pound", "tigervnc-standalone-server", "freerdp2-x11", "adminer", "awstats",
    "cgit", "sympa", "request-tracker5", "zabbix-frontend-php", "fusiondirectory", "pptpd",
    "xl2tpd", "racoon", "pdns-recursor", "dnsdist", "courier-imap", "cyrus-imapd",
    "mailutils", "hashid", "ncrack", "patator", "skipfish", "sipvicious", "yersinia", "mdbook",
    "hcloud-cli", "lego", "croc", "libnimbus-jose-jwt-java", "libbcpg-java",
]  # fmt: skip
DEBIAN_FRESH14 = [
    "openocd", "avrdude", "dfu-util", "samtools", "bcftools", "bwa", "maxima", "pari-gp",
    "profanity", "kakoune", "nnn", "ndisc6", "lnav", "goaccess", "jython", "groovy", "clojure",
    "vagrant", "jc", "httpie", "ncat", "hashdeep", "ssdeep", "apparmor-utils", "opensnitch",
    "usbguard", "rng-tools", "softhsm2", "getmail6", "offlineimap", "notmuch", "aerc",
    "mblaze", "freeipmi", "conserver-server", "minicom", "picocom", "tio",
]  # fmt: skip
# The fifteenth part's: Java, Perl and Ruby build and package tools, an assembler, an
# OpenPGP tool in Rust, chat, IRC and news servers, an FTP server, backup and forensic
# imaging tools, a password manager, an emulator, VoIP clients, numeric and statistics
# environments, music typesetting and plotting, version-control systems and browsers, mail
# authentication and greylisting, a firewall daemon and an IPsec VPN, network capture and
# Internet-wide scanners, wireless and web offensive tools (dual-use: MITM, brute-forcing
# of paths, fingerprinting, web vulnerability scanning).
DEBIAN_FRESH15 = [
    "maven", "ant", "gradle", "yasm", "ack", "cpanminus", "jekyll", "ruby-net-ssh", "sq",
    "ejabberd", "ngircd", "inn2", "pure-ftpd", "bup", "autopsy", "dc3dd", "guymager",
    "keepassxc", "dosbox", "baresip", "linphone-cli", "octave", "r-base-core", "lilypond",
    "gnuplot-nox", "darcs", "cvs", "tig", "gitk", "opendmarc", "postgrey", "firewalld",
    "libreswan", "tcpflow", "zmap", "wifite", "bettercap", "gobuster", "ffuf", "whatweb",
    "wapiti",
]  # fmt: skip
# The sixteenth part's: a media player, Lua's package manager, documentation converters,
# printer drivers, accessibility (braille, speech, screen reader), emulators and a console
# game, PHP, Perl and Go libraries (SSH, HTTP clients, web frameworks, a CLI framework), a
# host intrusion detector, package-integrity and restart checkers, automatic upgrades, and
# storage-device tools.
DEBIAN_FRESH16 = [
    "vlc-bin", "luarocks", "texinfo", "pandoc", "hplip", "brltty", "espeak-ng",
    "speech-dispatcher", "orca", "mame", "fceux", "stella", "scummvm", "nethack-console",
    "php-phpseclib", "php-guzzlehttp-guzzle", "libmojolicious-perl", "libdancer2-perl",
    "libnet-ssh2-perl", "golang-github-spf13-cobra-dev", "samhain", "debsums", "needrestart",
    "unattended-upgrades", "nvme-cli", "sg3-utils", "ledmon",
]  # fmt: skip
# The seventeenth part's: Windows libraries built for an emulation layer, signed UEFI boot
# loaders, free firmware, Android device tools, a debugger, intercepting proxies and traffic
# replay (dual-use), attack-surface mapping, ARP defence, a Bitcoin wallet, distributed and
# cached compilers, an initramfs builder, application sandboxes and stores, configuration
# management, VPN and overlay-network clients, censorship-circumvention proxies, remote
# desktop, file sync, chat servers and clients (Matrix, XMPP, IRC, Mumble), a mail client,
# CAD, audio and image editors, TeX binaries, shells, a dotfile manager, a file browser,
# an SVG renderer and a file-transfer tool.
DEBIAN_FRESH17 = [
    "libwine", "shim-signed", "grub-efi-amd64-signed", "firmware-linux-free", "adb",
    "fastboot", "edb-debugger", "mitmproxy", "sslsplit", "tcpreplay", "amass", "arpon",
    "electrum", "distcc", "ccache", "dracut", "flatpak", "snapd", "cfengine3",
    "openfortivpn", "vpnc", "n2n", "nebula", "shadowsocks-libev", "obfs4proxy", "remmina",
    "guacd", "nextcloud-desktop", "matrix-synapse", "gajim", "pidgin", "hexchat",
    "mumble-server", "quassel-core", "claws-mail", "openscad", "audacity", "gimp",
    "texlive-binaries", "tcsh", "mksh", "chezmoi", "broot", "librsvg2-bin", "magic-wormhole",
]  # fmt: skip
# The eighteenth part's: language runtimes and compilers (PyPy, Mono, Rust), kernel crash
# dumps, tracing and profiling, firmware flashers, a logic analyser, phone flashing and iOS
# device tools, BitTorrent and peer-to-peer clients, a DNS-over-TLS resolver, TPM tools and
# network-bound disk unlocking, SSH and IKE auditing, password crackers for PDF, RAR and
# LUKS (dual-use), steganography, Java libraries (PDF, Git, SVG), Perl's web client, cloud
# and hypervisor guest agents, the Nix package manager, an editor, an embedded key-value
# store, a database server, a Monero wallet, an x86 emulator, a media server, a web admin
# console, certificate enrolment and a Secure Boot signing tool.
DEBIAN_FRESH18 = [
    "pypy3", "mono-runtime", "rustc", "kexec-tools", "crash", "systemtap", "linux-perf",
    "flashrom", "sigrok-cli", "heimdall-flash", "libimobiledevice-utils", "qbittorrent-nox",
    "deluged", "rtorrent", "gnunet", "stubby", "tpm2-tools", "clevis", "tang", "ssh-audit",
    "ike-scan", "pdfcrack", "rarcrack", "bruteforce-luks", "outguess", "stegsnow",
    "libpdfbox2-java", "libjgit-java", "libbatik-java", "libwww-perl", "cloud-init", "nix-bin",
    "emacs-nox", "rocksdb-tools", "firebird3.0-server-core", "monero", "bochs", "gerbera",
    "waagent", "cockpit-ws", "certmonger", "pesign",
]  # fmt: skip
# The nineteenth part's: Lisp, Forth, Prolog, Raku, Scheme and Fortran toolchains,
# bioinformatics aligners and search, embedded key-value stores, HTTP/2 servers, a caching
# proxy and a TLS terminator, a collaborative intrusion-prevention agent, disk forensics and
# evidence imaging, ELF rewriting tools, file encryption and a small CA, remote-desktop and
# virtual-machine viewers, mail transfer agents, process checkpointing, a web browser, a
# site copier, a TLS scanner and a domain-typosquat finder (dual-use), host monitoring and
# its plugins, system tracing, an issue tracker, a wiki compiler, backup servers and
# archivers, configuration versioning, and file-event daemons.
DEBIAN_FRESH19 = [
    "sbcl", "gforth", "swi-prolog-nox", "rakudo", "chicken-bin", "gfortran", "bowtie2",
    "hmmer", "ncbi-blast+", "tokyocabinet-bin", "kyotocabinet-utils", "tinycdb", "h2o",
    "nghttp2-server", "trafficserver", "hitch", "crowdsec", "scalpel", "extundelete", "dcfldd",
    "ewf-tools", "afflib-tools", "rifiuti2", "patchelf", "chrpath", "ccrypt", "scrypt",
    "easy-rsa", "rdesktop", "virt-viewer", "x2goserver", "sendmail-bin", "nullmailer", "dma",
    "criu", "firefox-esr", "httrack", "testssl.sh", "dnstwist", "nagios4", "smokeping", "mrtg",
    "monitoring-plugins-basic", "sysdig", "btop", "atop", "redmine", "ikiwiki", "burp",
    "backuppc", "dar", "etckeeper", "molly-guard", "inotify-tools", "incron",
]  # fmt: skip
# The twentieth part's: clipboard, screen and input tools (grabbers and injectors, input
# methods), DNS, ICMP and HTTP tunnels and transparent proxies, a privacy cleaner and a disk
# wiper, small web browsers, a desktop keyring and its manager, kernel-module sources built
# by DKMS, OCaml, D and Nim compilers, a spreadsheet, a groupware server, PE and Authenticode
# tools and a hardening checker, command and session loggers, web content filters, a web
# terminal, network-boot firmware and boot loaders, onion sharing and a Tor monitor, fuzzers,
# a SIP traffic generator, a printer driver that fetches firmware, software-defined radio,
# a KNX bus daemon, a CI server, and a WebRTC gateway.
DEBIAN_FRESH20 = [
    "xclip", "wl-clipboard", "scrot", "ydotool", "xdotool", "ibus", "fcitx5", "iodine",
    "ptunnel-ng", "dns2tcp", "httptunnel", "corkscrew", "sshuttle", "redsocks", "proxytunnel",
    "bleachbit", "nwipe", "qutebrowser", "epiphany-browser", "falkon", "gnome-keyring",
    "seahorse", "dkms", "v4l2loopback-dkms", "acpi-call-dkms", "ocaml-nox", "ldc", "nim",
    "gnumeric", "sogo", "pev", "osslsigncode", "checksec", "snoopy", "acct", "ttyrec",
    "e2guardian", "squidguard", "shellinabox", "ipxe", "syslinux-common", "onionshare-cli",
    "nyx", "afl++", "zzuf", "sip-tester", "printer-driver-foo2zjs", "rtl-sdr", "hackrf",
    "knxd", "buildbot", "janus", "ser2net",
]  # fmt: skip
# The twenty-first part's: emulators of game consoles and home computers, fingerprint login,
# Active Directory enrolment and identity mapping, and a PAM tester, a certificate
# authority and a certificate-transparency monitor, secrets kept encrypted in git, a password
# generator, mail and chat clients (XMPP, Tox, Matrix), hashing tools, encrypted file
# systems, NetFlow collectors and exporters, Wi-Fi and IPv6 attack tools, a su cracker, a
# stream editor for network traffic, an SMTP test tool, inventory agents that report the
# machine to a server, Debian's popularity survey and bug reporter, cron and at daemons,
# a shell prompt and jump tools, init systems, security and package tools of
# Debian, phone pairing, terminal sharing and uptime records.
DEBIAN_FRESH21 = [
    "mgba-sdl", "mednafen", "hatari", "fprintd", "realmd", "adcli",
    "winbind", "pamtester", "xca", "certspotter", "keyringer", "apg", "sylpheed", "balsa",
    "dino-im", "toxic", "nheko", "rhash", "nettle-bin", "encfs", "cryfs", "nfdump", "softflowd",
    "pmacct", "mdk4", "pixiewps", "cowpatty", "sucrack", "thc-ipv6", "netsed", "swaks",
    "fusioninventory-agent", "ocsinventory-agent", "popularity-contest", "reportbug", "anacron",
    "at", "bcron", "liquidprompt", "byobu", "autojump", "powerline", "sysvinit-core",
    "runit", "openrc", "debsecan", "debian-goodies", "aptitude", "dlocate", "kdeconnect",
    "tmate", "tuptime",
]  # fmt: skip
# The twenty-second part's: language toolchain managers that download compilers and
# packages (OCaml, Haskell, Clojure), guest agents of hypervisors, commands run on many
# hosts at once, dynamic-DNS clients that report the machine's address, classroom screen
# monitoring and remote control, censorship-circumvention proxies and overlay networks, a
# SOCKS server, a pastebin client, a screenshot tool and a scriptable clipboard manager,
# an IRC bot, bouncer and IM gateway, NFC/MIFARE key crackers, CAN-bus tools, pager,
# APRS, ADS-B and SDR receivers, a Bluetooth scanner, iPhone app installer and ST-Link
# flasher, a rootkit hunter, process supervisors, Debian mirroring and caching, a message
# broker and a coordination service, a CalDAV server, a subdomain finder, object-store
# clients (S3 FUSE, Backblaze), a machine-image builder, game servers, media downloaders,
# a webcam server and a streaming studio, input-event readers, hardware probes that
# upload a report, system-information tools, a system monitor, an OpenPGP verifier and an
# accounting tool.
DEBIAN_FRESH22 = [
    "opam", "haskell-stack", "leiningen", "hyperv-daemons", "spice-vdagent", "pdsh",
    "clustershell", "pssh", "ddclient", "inadyn", "veyon-service", "epoptes", "v2ray",
    "trojan", "yggdrasil", "microsocks", "pastebinit", "flameshot", "copyq", "limnoria",
    "znc", "bitlbee", "mfoc", "mfcuk", "libnfc-bin", "can-utils", "multimon-ng", "direwolf",
    "dump1090-mutability", "gqrx-sdr", "btscanner", "ideviceinstaller", "stlink-tools",
    "unhide", "s6", "daemontools", "debmirror", "approx", "activemq", "zookeeperd",
    "davical", "sublist3r", "backblaze-b2", "x2goclient", "packer", "openttd",
    "freeciv-server", "teeworlds-server", "gallery-dl", "streamlink", "fswebcam",
    "obs-studio", "evtest", "triggerhappy", "hw-probe", "inxi", "neofetch", "glances", "sqv",
    "hledger",
]  # fmt: skip
# The twenty-third part's: HPC authentication and module systems, PostgreSQL backup,
# pooling and replication, single sign-on (LemonLDAP::NG, SimpleSAMLphp, Shibboleth), a
# Linux security module's tools, UEFI tools and boot managers, U-Boot's image tools, the
# Arduino IDE, Android's APK signer, RPM and Debian signature checking, password managers
# (LastPass's client, Password Safe), PIV and one-time-password tools, SSH tarpits and
# honeypots, log rotation and summaries, snapshot and backup schedulers, Debian's image,
# package-check and test tools, system monitors and a Nagios client, music and AirPlay
# servers, small web browsers and text browsers, remote display (xpra, NX), ICMP and
# Wi-Fi capture tools, a DNS recon tool, a Java decompiler, container runtimes and user-mode
# networking, an S3 client, a SIP phone, download managers, stock-quote fetching,
# plain-text accounting, a version-control system, the Haxe compiler, and PHP's, Rust's and
# Yarn's package managers.
DEBIAN_FRESH23 = [
    "munge", "lmod", "pgbackrest", "barman", "pgpool2", "lemonldap-ng", "simplesamlphp",
    "shibboleth-sp-utils", "tomoyo-tools", "efitools", "refind", "u-boot-tools", "arduino",
    "apksigner", "rpm", "debsig-verify", "lastpass-cli", "passwordsafe", "yubico-piv-tool",
    "otpw-bin", "endlessh", "sshesame", "logrotate", "logwatch", "borgmatic", "btrbk",
    "snapper", "timeshift", "backintime-common", "mmdebstrap", "lintian", "piuparts",
    "autopkgtest", "monitorix", "nagstamon", "mopidy", "snapserver", "shairport-sync", "surf",
    "dillo", "netsurf-gtk", "elinks", "links2", "xpra", "nxagent", "fping", "hcxtools",
    "hcxdumptool", "fierce", "procyon-decompiler", "crun", "distrobox", "umoci",
    "slirp4netns", "s3cmd", "twinkle", "uget", "persepolis", "libfinance-quote-perl",
    "beancount", "ledger", "brz", "haxe", "composer", "cargo", "yarnpkg",
]  # fmt: skip
BLIND_PARTS = {
    "fresh": DEBIAN_FRESH,
    "fresh2": DEBIAN_FRESH2,
    "fresh3": DEBIAN_FRESH3,
    "fresh4": DEBIAN_FRESH4,
    "fresh5": DEBIAN_FRESH5,
    "fresh6": DEBIAN_FRESH6,
    "fresh7": DEBIAN_FRESH7,
    "fresh8": DEBIAN_FRESH8,
    "fresh9": DEBIAN_FRESH9,
    "fresh10": DEBIAN_FRESH10,
    "fresh11": DEBIAN_FRESH11,
    "fresh12": DEBIAN_FRESH12,
    "fresh13": DEBIAN_FRESH13,
    "fresh14": DEBIAN_FRESH14,
    "fresh15": DEBIAN_FRESH15,
    "fresh16": DEBIAN_FRESH16,
    "fresh17": DEBIAN_FRESH17,
    "fresh18": DEBIAN_FRESH18,
    "fresh19": DEBIAN_FRESH19,
    "fresh20": DEBIAN_FRESH20,
    "fresh21": DEBIAN_FRESH21,
    "fresh22": DEBIAN_FRESH22,
    "fresh23": DEBIAN_FRESH23,
}

# name -> the Debian packages whose data tarballs are the image's layers
IMAGES = {
    "debian-curl-python": [
        "base-files", "libc6", "bash", "coreutils", "dash", "libssl3", "openssl", "curl",
        "libcurl4", "python3.11-minimal", "libpython3.11-minimal", "perl-base", "zlib1g",
        "ca-certificates", "tzdata",
    ],
    "debian-tools": [
        "base-files", "libc6", "bash", "coreutils", "libgnutls30", "gnupg", "gpg", "git",
        "openssh-client", "sqlite3", "libsqlite3-0", "age", "ripgrep", "busybox",
    ],
    "debian-java": [
        "base-files", "libc6", "bash", "coreutils", "openjdk-17-jre-headless",
        "libcommons-lang3-java", "libguava-java", "liblog4j2-java",
    ],
}  # fmt: skip


def fetch_release(name: str, dest: Path, want_sdist: bool) -> None:
    """The newest wheel; the sdist too when asked or when there is no wheel (a file from
    PyPI's JSON API: ``pip download`` of an sdist would run its build backend)."""
    wheel = dest / name / "wheel"
    if not (wheel.is_dir() and any(wheel.iterdir())):
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps",
             "--only-binary=:all:", "-d", str(wheel), name],
            check=False, capture_output=True, timeout=600,
        )  # fmt: skip
    has_wheel = wheel.is_dir() and any(wheel.iterdir())
    if want_sdist or not has_wheel:
        fetch_pypi(name, dest)  # wheel already there: fetches the sdist only


def apt_download(names: list[str], dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    have = {p.name.split("_")[0] for p in dest.glob("*.deb")}
    missing = [n for n in names if n not in have]
    for name in missing:  # one at a time: a name missing from the archive skips only itself
        result = subprocess.run(
            ["apt-get", "download", name], cwd=dest, check=False, capture_output=True
        )
        if result.returncode:
            print(f"debian {name}: {result.stderr.decode().strip()}", file=sys.stderr)


def jars_from(deb: Path, dest: Path) -> None:
    """Copy the real jar files of a Java library package out of its data tarball."""
    data = subprocess.run(
        ["dpkg-deb", "--fsys-tarfile", str(deb)], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith(".jar"):
                extracted = tar.extractfile(member)
                if extracted is not None:
                    (dest / Path(member.name).name).write_bytes(extracted.read())


def status_entry(deb: Path) -> str:
    control = subprocess.run(
        ["dpkg-deb", "--field", str(deb)], check=True, capture_output=True, text=True
    ).stdout.rstrip("\n")
    lines = control.splitlines()
    lines.insert(1, "Status: install ok installed")
    return "\n".join(lines) + "\n"


def file_list_entry(deb: Path, data: bytes) -> tuple[str, bytes]:
    """What dpkg writes on install: ``info/<package>.list`` (``<package>:<arch>.list`` for
    Multi-Arch: same), ``/.`` then every member of the package's data as an absolute path."""
    fields = {
        key: subprocess.run(
            ["dpkg-deb", "--field", str(deb), key], check=True, capture_output=True, text=True
        ).stdout.strip()
        for key in ("Package", "Architecture", "Multi-Arch")
    }
    name = fields["Package"]
    if fields["Multi-Arch"] == "same":
        name += f":{fields['Architecture']}"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        paths = [posixpath.normpath("/" + member.name) for member in tar.getmembers()]
    text = "\n".join("/." if path == "/" else path for path in paths) + "\n"
    return f"var/lib/dpkg/info/{name}.list", text.encode()


def build_image(debs: list[Path], target: Path, tag: str) -> None:
    """A ``docker save`` tarball: one layer per package, then the dpkg database layer (the
    status file and each package's file list)."""
    layers: list[bytes] = []
    for deb in debs:
        layers.append(
            subprocess.run(
                ["dpkg-deb", "--fsys-tarfile", str(deb)], check=True, capture_output=True
            ).stdout
        )
    database = {"var/lib/dpkg/status": "\n".join(status_entry(deb) for deb in debs).encode()}
    database.update(file_list_entry(deb, data) for deb, data in zip(debs, layers, strict=True))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as layer:
        for path, content in database.items():
            info = tarfile.TarInfo(path)
            info.size = len(content)
            layer.addfile(info, io.BytesIO(content))
    layers.append(buffer.getvalue())
    names = []
    with tarfile.open(target, "w") as image:
        for number, data in enumerate(layers):
            name = f"layer{number:02d}/layer.tar"
            info = tarfile.TarInfo(name)
            info.size = len(data)
            image.addfile(info, io.BytesIO(data))
            names.append(name)
        config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
        manifest = json.dumps(
            [{"Config": "config.json", "RepoTags": [f"{tag}:bench"], "Layers": names}]
        ).encode()
        for name, data in (("config.json", config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            image.addfile(info, io.BytesIO(data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pypi", type=int, default=250)
    parser.add_argument("--npm", type=int, default=250)
    parser.add_argument("--sdists", type=int, default=40)
    parser.add_argument("--fresh", type=int, default=150)
    parser.add_argument("--only", choices=["pypi", "npm", "debian", "images", "fresh"])
    parser.add_argument(
        "--part", choices=list(BLIND_PARTS), help="with --only fresh: this blind part alone"
    )
    args = parser.parse_args()
    if args.only in (None, "debian", "images"):
        debs = WORK / "debian"
        image_debs = WORK / "image-debs"
        apt_download(DEBIAN, debs)
        jars = WORK / "jars"
        jars.mkdir(parents=True, exist_ok=True)
        for deb in sorted(debs.glob("*.deb")):
            if deb.name.split("_")[0] in JAR_PACKAGES:
                jars_from(deb, jars)
        images = WORK / "images"
        images.mkdir(parents=True, exist_ok=True)
        for tag, names in IMAGES.items():
            apt_download(names, image_debs)
            target = images / f"{tag}.tar"
            if not target.exists():
                chosen = [
                    next(image_debs.glob(f"{name}_*.deb"))
                    for name in names
                    if any(image_debs.glob(f"{name}_*.deb"))
                ]
                build_image(chosen, target, tag)
    if args.only in (None, "pypi"):
        for rank, name in enumerate(top_pypi(args.pypi)):
            fetch_release(name, WORK / "pypi", want_sdist=rank < args.sdists)
    if args.only in (None, "npm"):
        for name in top_npm(args.npm):
            fetch_npm(name, WORK / "npm")
    if args.only in (None, "fresh"):
        for blind in [args.part] if args.part else BLIND_PARTS:
            fetch_fresh(args.pypi, args.npm, args.fresh, blind)


def fetch_fresh(pypi: int, npm: int, count: int, blind: str) -> None:
    """A blind part: the next ``count`` projects of each registry after those the earlier
    parts took, and that part's Debian list, keeping only families no earlier part has."""
    order = list(BLIND_PARTS)
    earlier = order[: order.index(blind)]
    start_pypi, start_npm = pypi + count * len(earlier), npm + count * len(earlier)
    seen = {family(n) for n in [*top_pypi(start_pypi), *top_npm(start_npm), *DEBIAN]}
    seen |= {family(n) for part in earlier for n in BLIND_PARTS[part]}
    picked = [n for n in top_pypi(start_pypi + count)[start_pypi:] if family(n) not in seen]
    for rank, name in enumerate(picked):
        fetch_release(name, WORK / f"pypi-{blind}", want_sdist=rank < 15)
    for name in top_npm(start_npm + count)[start_npm:]:
        if family(name) not in seen:
            fetch_npm(name, WORK / f"npm-{blind}")
    debian = [n for n in BLIND_PARTS[blind] if family(n) not in seen]
    apt_download(debian, WORK / f"debian-{blind}")


if __name__ == "__main__":
    main()
