#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/fetch-llama.sh: llama.cpp as a reference engine for make bench,
# from Debian's unstable suite, without installing anything.
#
# usage: scripts/fetch-llama.sh [--update]          fetch (once) and say where
#        scripts/fetch-llama.sh --variant           the CPU backend this CPU runs
#        scripts/fetch-llama.sh --run PROG [ARG...] run llama-bench, llama-cli...
#
# Debian 12 has no llama.cpp; unstable carries it (llama.cpp-tools with
# llama-bench and llama-cli, libllama0, libggml0 with a CPU backend per
# micro-architecture), built against a newer C library.  So the packages,
# with that suite's libc6, libgcc-s1, libstdc++6, libgomp1, libssl3t64 and
# libzstd1, are fetched with `apt-get download` through a private sources
# list for unstable (the mirror this system's own sources use, private
# Dir::State::Lists and Dir::Cache), and each is unpacked with dpkg-deb -x
# into one root, $BUILD/llama.cpp/root.  A program runs through that
# root's dynamic loader, with its libraries, and GGML_BACKEND_PATH naming
# the best libggml-cpu-VARIANT.so whose instruction sets /proc/cpuinfo
# lists (LLAMA_CPU_VARIANT=haswell, for example, to pick one).
#
# Idempotent: once $BUILD/llama.cpp/root is complete nothing is fetched
# again (--update fetches the suite's newest).  make clean removes it.
# Exit status 2 when apt cannot get the packages, with apt's words.
# Environment: BUILD (default build), LLAMA_MIRROR (a Debian mirror URL,
# instead of the one /etc/apt's sources use), LLAMA_CPU_VARIANT.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
DIR=$BUILD/llama.cpp
RFS=$DIR/root
LIB=$RFS/usr/lib/x86_64-linux-gnu
BACKENDS=$LIB/ggml/backends0
STAMP=$DIR/packages.txt
SUITE=unstable
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

PACKAGES=(llama.cpp-tools libllama0 libggml0)
# From the same suite as llama.cpp: what it was built against.
RUNTIME=(libc6 libgcc-s1 libstdc++6 libgomp1 libssl3t64 libzstd1)

die() {
	echo "fetch-llama: $*" >&2
	exit 2
}

# The Debian mirror this system's sources use for its own suite (not the
# security archive): the first URI of a deb822 stanza or a one-line entry
# whose suites include VERSION_CODENAME.
system_mirror() {
	local codename files=()

	codename=$(sed -n 's/^VERSION_CODENAME=["'"'"']\{0,1\}\([a-z]*\).*/\1/p' \
		/etc/os-release 2>/dev/null || true)
	[ -n "$codename" ] || return 0
	[ -r /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
	for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] && files+=("$f")
	done
	[ ${#files[@]} -gt 0 ] || return 0
	awk -v cn="$codename" '
		function stanza_end() {
			if (uri != "" && enabled && (" " types " ") ~ / deb / &&
			    (" " suites " ") ~ (" " cn " "))
				print uri
			uri = ""; suites = ""; types = ""; enabled = 1
		}
		FNR == 1 { stanza_end() }
		FILENAME ~ /\.sources$/ {
			if ($0 ~ /^[ \t]*$/) { stanza_end(); next }
			key = tolower($1)
			if (key == "uris:") uri = $2
			else if (key == "suites:") { $1 = ""; suites = $0 }
			else if (key == "types:") { $1 = ""; types = $0 }
			else if (key == "enabled:") enabled = tolower($2) != "no"
			next
		}
		$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) {
				while ($i !~ /\]$/ && i < NF) i++
				i++
			}
			if ($(i + 1) == cn) print $i
		}
		END { stanza_end() }
	' "${files[@]}" | head -1
}

# apt-get and apt-cache on the private sources list and state.
APT_OPTS=()
apt_setup() {
	local mirror=${LLAMA_MIRROR:-} user

	[ -n "$mirror" ] || mirror=$(system_mirror)
	[ -n "$mirror" ] ||
		die "no Debian mirror in /etc/apt/sources.list* for this system's suite (set LLAMA_MIRROR=http://deb.debian.org/debian)"
	[ -r "$KEYRING" ] ||
		die "no $KEYRING (the debian-archive-keyring package)"
	mkdir -p "$DIR/apt/lists/partial" "$DIR/apt/cache/archives/partial" \
		"$DIR/apt/sources.list.d"
	echo "deb [signed-by=$KEYRING] $mirror $SUITE main" > "$DIR/apt/sources.list"
	# apt's sandbox user cannot write our directories: fetch as ourselves.
	user=$(id -un)
	APT_OPTS=(-o "Dir::Etc::SourceList=$DIR/apt/sources.list"
		  -o "Dir::Etc::SourceParts=$DIR/apt/sources.list.d"
		  -o "Dir::State::Lists=$DIR/apt/lists"
		  -o "Dir::Cache=$DIR/apt/cache"
		  -o "APT::Sandbox::User=$user")
}

fetch() {
	local pkgs=() p log=$DIR/apt.log

	echo "fetch-llama: fetching llama.cpp from Debian $SUITE into $DIR" >&2
	apt_setup
	# (apt-get update ignores an index it cannot fetch unless told)
	if ! apt-get -q "${APT_OPTS[@]}" --error-on=any update > "$log" 2>&1 ||
	   ! compgen -G "$DIR/apt/lists/*_Packages*" > /dev/null; then
		tail -20 "$log" >&2
		die "apt-get update could not fetch Debian $SUITE's index (network, or the mirror in $DIR/apt/sources.list; LLAMA_MIRROR= sets it)"
	fi
	for p in "${PACKAGES[@]}"; do
		apt-cache "${APT_OPTS[@]}" show "$p" > /dev/null 2>&1 ||
			die "Debian $SUITE has no package $p (see $DIR/apt/sources.list)"
	done
	pkgs=("${PACKAGES[@]}")
	# Should the CPU backends or ggml's base move to packages of their
	# own, take those too.
	while read -r p; do
		pkgs+=("$p")
	done < <(apt-cache "${APT_OPTS[@]}" pkgnames libggml |
		 grep -E '^libggml-?base[0-9]*$|^libggml[0-9]*-backend-cpu' || true)
	for p in "${RUNTIME[@]}"; do
		pkgs+=("$p/$SUITE")
	done
	rm -rf "$DIR/debs" "$RFS" "$STAMP"
	mkdir -p "$DIR/debs" "$RFS"
	if ! (cd "$DIR/debs" && apt-get -q "${APT_OPTS[@]}" download "${pkgs[@]}") \
		>> "$log" 2>&1; then
		tail -20 "$log" >&2
		die "apt-get download failed: ${pkgs[*]}"
	fi
	for deb in "$DIR"/debs/*.deb; do
		dpkg-deb -x "$deb" "$RFS"
	done
	[ -x "$RFS/usr/lib64/ld-linux-x86-64.so.2" ] ||
		die "no dynamic loader in $RFS/usr/lib64 after unpacking"
	[ -x "$RFS/usr/bin/llama-bench" ] ||
		die "no llama-bench in $RFS/usr/bin after unpacking"
	compgen -G "$BACKENDS/libggml-cpu-*.so" > /dev/null ||
		die "no CPU backend (libggml-cpu-*.so) in $BACKENDS after unpacking: the packaging has changed"
	(cd "$DIR/debs" && ls) > "$STAMP.new"
	mv "$STAMP.new" "$STAMP"
}

# /proc/cpuinfo's flags, as one space-separated line with spaces around.
cpu_flags() {
	echo " $(sed -n 's/^flags[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -1) "
}

# ggml's x86 variants, best first, with what each is built for (ggml's
# GGML_CPU_ALL_VARIANTS list; "avx512" is F, CD, VL, DQ and BW, the
# -mavx512* options ggml builds its AVX512 variants with).
VARIANTS=(
	"sapphirerapids avx2 fma f16c bmi2 avx512 avx512vbmi avx512_vnni avx512_bf16 amx_tile amx_int8"
	"zen4 avx2 fma f16c bmi2 avx512 avx512vbmi avx512_vnni avx512_bf16"
	"icelake avx2 fma f16c bmi2 avx512 avx512vbmi avx512_vnni"
	"cooperlake avx2 fma f16c bmi2 avx512 avx512_vnni avx512_bf16"
	"cascadelake avx2 fma f16c bmi2 avx512 avx512_vnni"
	"cannonlake avx2 fma f16c bmi2 avx512 avx512vbmi"
	"skylakex avx2 fma f16c bmi2 avx512"
	"alderlake avx2 fma f16c bmi2 avx_vnni"
	"haswell avx2 fma f16c bmi2"
	"piledriver fma f16c"
	"ivybridge f16c"
	"sandybridge"
	"sse42"
	"x64"
)

# The best variant this CPU can run, of those unpacked.
pick_variant() {
	local flags v name need ok
	flags=$(cpu_flags)

	if [ -n "${LLAMA_CPU_VARIANT:-}" ]; then
		[ -r "$BACKENDS/libggml-cpu-$LLAMA_CPU_VARIANT.so" ] ||
			die "no libggml-cpu-$LLAMA_CPU_VARIANT.so in $BACKENDS"
		echo "$LLAMA_CPU_VARIANT"
		return
	fi
	for v in "${VARIANTS[@]}"; do
		read -r name need <<< "$v"
		[ -r "$BACKENDS/libggml-cpu-$name.so" ] || continue
		ok=1
		# every variant but x64 needs SSE4.2; all from sandybridge AVX
		case $name in x64) ;; *) need+=" sse4_2" ;; esac
		case $name in x64|sse42) ;; *) need+=" avx" ;; esac
		for f in $need; do
			[ "$f" != avx512 ] ||
				f="avx512f avx512cd avx512vl avx512dq avx512bw"
			for g in $f; do
				case $flags in *" $g "*) ;; *) ok=0 ;; esac
			done
		done
		if [ $ok = 1 ]; then
			echo "$name"
			return
		fi
	done
	die "no CPU backend in $BACKENDS that this CPU can run"
}

UPDATE=0
case ${1:-} in
-h|--help) sed -n '4,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
--update) UPDATE=1; shift ;;
esac
[ "$(uname -m)" = x86_64 ] || die "only x86_64 is handled (this is $(uname -m))"
if [ $UPDATE = 1 ] || [ ! -s "$STAMP" ]; then
	fetch
fi

case ${1:-} in
'')
	echo "$RFS"
	;;
--variant)
	pick_variant
	;;
--run)
	shift
	prog=${1:?--run needs a program, e.g. llama-bench}
	shift
	[ -x "$RFS/usr/bin/$prog" ] || die "no $prog in $RFS/usr/bin"
	variant=$(pick_variant)
	export GGML_BACKEND_PATH=$BACKENDS/libggml-cpu-$variant.so
	exec "$RFS/usr/lib64/ld-linux-x86-64.so.2" \
		--library-path "$LIB:$RFS/lib/x86_64-linux-gnu:$LIB/llama" \
		"$RFS/usr/bin/$prog" "$@"
	;;
*)
	die "unknown argument $1 (see --help)"
	;;
esac
