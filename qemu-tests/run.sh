#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu-tests/run.sh: run the guest tests in QEMU.
#
# Builds one initramfs (busybox, llm.ko, llmctl, the guest tests, the model
# files in models/, $BUILD/qemu-extra/) and boots the Debian kernel that
# matches the newest headers installed (scripts/setup.sh unpacks it into
# $BUILD/kernels/), once per test script, a few VMs at a time.  The guest
# prints PASS/FAIL/SKIP lines; this side decides: a test fails on any FAIL
# line, on no result lines, when its script stops before its last line, on
# a timeout, and on any kernel warning, oops or other splat in the serial
# log (those logged before llm.ko's first load under their own name:
# "kernel log before llm.ko was loaded").
#
# usage: qemu-tests/run.sh [OPTIONS] [TEST...]
#   --list           print the test names and exit
#   -j N             VMs run at a time (default 2)
#   --timeout S      seconds per test, overriding '# timeout:' headers
#   --tests-dir DIR  the test scripts (default qemu-tests/tests)
#   --extra DIR      copied to /extra in the guest (default $BUILD/qemu-extra)
#   --out DIR        initramfs and logs (default $BUILD/qemu)
#   --console        also show each guest's console live on stderr, with
#                    the kernel booting quietly (used by make demo)
#
# A test script may start with header lines:
#   # timeout: 300      seconds before QEMU is killed (default 120)
#   # memory: 1G        guest RAM (default 512M)
#   # smp: 1            guest CPUs (default 2)
#
# Environment: BUILD (default build), LLM_QEMU_ACCEL=auto|kvm|tcg,
# LLM_KERNEL=IMAGE to boot another kernel than the one scripts/setup.sh
# unpacks ($BUILD/kernels/VERSION/root/boot/vmlinuz-<headers' ABI>),
# LLM_QEMU_MEMORY=SIZE guest RAM for every test (a KASAN kernel needs more),
# LLM_QEMU_APPEND=ARGS added to the guest kernel command line,
# LLM_QEMU_BOOT_TIMEOUT=S seconds a guest may take to reach /init (120),
# LLM_MODELS=DIR instead of models/ (its *.gguf and *.bin files go to
# /models in the guest).
# LLM_QEMU_ARGS=ARGS added to every QEMU command line (word-split: a
# NIC for tests/serve-openai.sh), LLM_QEMU_KMODS=NAMES Debian modules put
# in /kmod besides llm.ko's (its driver).
#
# Every guest also gets the Debian modules llm.ko depends on (and the
# crypto library ones it is about to: KMODS_ALWAYS), from the unpacked
# modules of the kernel it boots, under /kmod with a modules.dep that
# guest/lib.sh's llm_load and kmod_load follow.
#
# Standard output carries only the result lines; progress goes to stderr.
# Exit status: 0 all passed, 1 some test failed, 2 the harness could not run.
#
# qemu-tests/ring.sh sources this file for its functions (main runs only
# when run.sh itself is the program).

set -eu

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/qemu-tests
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac

JOBS=2
TIMEOUT=
TESTS_DIR=$HERE/tests
EXTRA_DIR=$BUILD/qemu-extra
OUT=$BUILD/qemu
HELPERS=$BUILD/qemu-helpers
LIST=0
CONSOLE=0
DEFAULT_TIMEOUT=120
DEFAULT_MEMORY=512M
# A guest that has not reached /init by then is stopped and booted again.
BOOT_TIMEOUT=${LLM_QEMU_BOOT_TIMEOUT:-120}
DEFAULT_SMP=2
# Debian modules in every guest's /kmod besides what llm.ko depends on;
# KMODS_EXTRA adds more (ring.sh: the NIC driver, sch_netem), and
# INITRAMFS_HOOK, a function, is called with the root before it is packed.
KMODS_ALWAYS=(libchacha20poly1305)
# shellcheck disable=SC2206
KMODS_EXTRA=(${LLM_QEMU_KMODS:-})
INITRAMFS_HOOK=

# Kernel log lines that fail a test wherever they appear (a KCSAN report
# is "BUG: KCSAN: data-race in A / B"; a bare KCSAN would match the KCSAN
# kernel's boot banner).
BAD_RE='\bBUG\b|WARNING:|Oops|KASAN|general protection|Call Trace|UBSAN'
BAD_RE+='|[Kk]ernel panic|soft lockup|hard LOCKUP|hung task|hung_task'
BAD_RE+='|blocked for more than|detected stalls?\b|refcount_t:|list_add corruption'
BAD_RE+='|list_del corruption|double free|kernel NULL pointer'
# A kernel log line: "[   12.345678] ..." (Debian kernels print the time).
KLINE_RE='\[ *[0-9]+\.[0-9]+\]'

die() {
	echo "qemu-tests: $*" >&2
	exit 2
}

note() {
	echo "qemu-tests: $*" >&2
}

usage() {
	sed -n '/^# usage:/,/^# Exit status/s/^# \{0,1\}//p' "$0"
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--list) LIST=1 ;;
		-j) JOBS=${2:?-j needs a number}; shift ;;
		-j*) JOBS=${1#-j} ;;
		--timeout) TIMEOUT=${2:?--timeout needs seconds}; shift ;;
		--tests-dir) TESTS_DIR=${2:?}; shift ;;
		--extra) EXTRA_DIR=${2:?}; shift ;;
		--out) OUT=${2:?}; shift ;;
		--console) CONSOLE=1 ;;
		-h|--help) usage; exit 0 ;;
		-*) die "unknown option '$1' (see --help)" ;;
		*) SELECTED+=("$1") ;;
		esac
		shift
	done
	[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "-j wants a positive number"
	[[ -z $TIMEOUT || $TIMEOUT =~ ^[1-9][0-9]*$ ]] ||
		die "--timeout wants seconds"
	[ -d "$TESTS_DIR" ] || die "no test directory $TESTS_DIR"
	TESTS_DIR=$(cd "$TESTS_DIR" && pwd)
}

# The names of the tests to run, sorted, checked against the directory.
pick_tests() {
	local f name
	for f in "$TESTS_DIR"/*.sh; do
		[ -f "$f" ] || continue
		name=${f##*/}
		ALL_TESTS+=("${name%.sh}")
	done
	if [ ${#SELECTED[@]} -eq 0 ]; then
		TESTS=("${ALL_TESTS[@]}")
		return
	fi
	for name in "${SELECTED[@]}"; do
		name=${name%.sh}
		[ -f "$TESTS_DIR/$name.sh" ] || die "no test '$name' in $TESTS_DIR"
		TESTS+=("$name")
	done
}

# Kernel: the one scripts/setup.sh unpacked into $BUILD/kernels/ for the
# newest Debian headers installed (never the running kernel, which on
# these machines is not Debian's, nor one installed in /boot).
find_kernel() {
	local hdr

	hdr=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1)
	[ -n "$hdr" ] ||
		die "no /usr/src/linux-headers-*-amd64: run scripts/setup.sh"
	KVER=${hdr##*/linux-headers-}
	KIMG=${LLM_KERNEL:-$(BUILD=$BUILD "$ROOT/scripts/setup.sh" --kernel-image)}
	[ -r "$KIMG" ] ||
		die "cannot read kernel image $KIMG (scripts/setup.sh fetches it)"
}

# KVM only where it really works: hardware virtualisation visible, not the
# paravirtual kvm_pvm some hosts offer (QEMU aborts on it), device usable.
kvm_usable() {
	grep -qwE 'vmx|svm' /proc/cpuinfo || return 1
	[ ! -e /sys/module/kvm_pvm ] || return 1
	[ -r /dev/kvm ] && [ -w /dev/kvm ]
}

pick_accel() {
	local want=${LLM_QEMU_ACCEL:-auto}

	case $want in
	kvm) ACCEL=(-accel kvm -cpu host); ACCEL_NAME=kvm ;;
	tcg) ACCEL=(-accel tcg -cpu max); ACCEL_NAME=tcg ;;
	auto)
		if kvm_usable; then
			ACCEL=(-accel kvm -cpu host); ACCEL_NAME=kvm
		else
			ACCEL=(-accel tcg -cpu max); ACCEL_NAME=tcg
		fi ;;
	*) die "LLM_QEMU_ACCEL must be auto, kvm or tcg" ;;
	esac
}

# The module must have been built for the kernel we boot.
check_module() {
	local vermagic

	if [ ! -f "$ROOT/llm.ko" ]; then
		note "warning: $ROOT/llm.ko is missing (make module); tests that load it will fail"
		return
	fi
	[ -n "${LLM_KERNEL:-}" ] && return
	vermagic=$(modinfo -F vermagic "$ROOT/llm.ko" 2>/dev/null || true)
	case $vermagic in
	"$KVER "*) ;;
	*) die "llm.ko was built for '${vermagic%% *}', the guest runs $KVER: rebuild with make module" ;;
	esac
}

# The kernel modules of the image we boot: the unpacked Debian tree beside
# it (.../root/boot/vmlinuz-ABI: .../root/lib/modules/ABI), or a kernel
# source tree's own (.../arch/x86/boot/bzImage: the tree, where
# scripts/debug-kernel.sh built them), or LLM_KMODS=DIR.  Sets KMOD_DIR
# (empty when there is none) and KMOD_PATH[name] for each module the tree
# has (names with '_' for '-', as /proc/modules has them), KMOD_BUILTIN[name]
# for those built into the kernel.
find_kmods() {
	local path name

	KMOD_DIR=${LLM_KMODS:-}
	if [ -z "$KMOD_DIR" ]; then
		case $KIMG in
		*/boot/vmlinuz-*)
			KMOD_DIR=${KIMG%/boot/vmlinuz-*}/lib/modules/${KIMG##*/vmlinuz-} ;;
		*/arch/x86/boot/bzImage)
			KMOD_DIR=${KIMG%/arch/x86/boot/bzImage} ;;
		esac
	fi
	if [ -z "$KMOD_DIR" ] || [ ! -f "$KMOD_DIR/modules.order" ]; then
		note "warning: no modules.order for $KIMG (LLM_KMODS=DIR names its modules): the guests get no Debian modules"
		KMOD_DIR=
		return
	fi
	while read -r path; do
		name=${path##*/}
		name=${name%%.ko*}
		KMOD_PATH[${name//-/_}]=$path
	done < "$KMOD_DIR/modules.order"
	if [ -f "$KMOD_DIR/modules.builtin" ]; then
		while read -r path; do
			name=${path##*/}
			name=${name%%.ko*}
			KMOD_BUILTIN[${name//-/_}]=1
		done < "$KMOD_DIR/modules.builtin"
	fi
}

# kmod_file NAME: the module's file in KMOD_DIR (modules.order names a
# .ko that the Debian package may ship compressed).
kmod_file() {
	local f=$KMOD_DIR/${KMOD_PATH[$1]} z

	for z in '' .xz .zst .gz; do
		[ -f "$f$z" ] && { echo "$f$z"; return 0; }
	done
	return 1
}

# kmod_resolve NAME: append NAME's modules to KMOD_ORDER, what each
# depends on (modinfo's depends, which depmod reads for modules.dep) before
# it, each once.  Built-in ones are skipped (KMOD_BUILTIN_USED), missing
# ones noted in KMOD_MISSING; status 1 then.
kmod_resolve() {
	local name=${1//-/_} file dep st=0

	[ -n "${KMOD_SEEN[$name]:-}" ] && return "${KMOD_SEEN[$name]}"
	KMOD_SEEN[$name]=0
	if [ -n "${KMOD_BUILTIN[$name]:-}" ]; then
		KMOD_BUILTIN_USED[$name]=1
		return 0
	fi
	if [ -z "${KMOD_PATH[$name]:-}" ] || ! file=$(kmod_file "$name"); then
		KMOD_SEEN[$name]=1
		KMOD_MISSING+=("$name")
		return 1
	fi
	for dep in $(modinfo -F depends "$file" | tr ',' ' '); do
		kmod_resolve "$dep" || st=1
	done
	KMOD_ORDER+=("$name")
	KMOD_SEEN[$name]=$st
	return $st
}

# kmod_closure NAME...: set KMOD_ORDER to the modules NAMEs need, in load
# order, NAMEs last (only those to load: built-in ones are left out).
kmod_closure() {
	local name

	KMOD_ORDER=()
	KMOD_SEEN=()
	for name in "$@"; do
		kmod_resolve "$name" || true
	done
}

# Debian's modules into @1/kmod: KMODS_ALWAYS, KMODS_EXTRA and what llm.ko
# depends on, each with what it depends on, uncompressed as NAME.ko; and
# kmod/modules.dep ("NAME: DEP..." with every module NAME needs, in load
# order; a line "llm: ..." for llm.ko) and kmod/modules.builtin (the names
# asked for that are built in), which guest/lib.sh's kmod_load and llm_load
# read.
install_kmods() {
	local root=$1 name file llm_deps=() all=()
	local -A KMOD_SEEN=() KMOD_BUILTIN_USED=()
	local -a KMOD_ORDER=() KMOD_MISSING=()

	mkdir -p "$root/kmod"
	: > "$root/kmod/modules.dep"
	: > "$root/kmod/modules.builtin"
	[ -n "$KMOD_DIR" ] || return 0
	if [ -f "$ROOT/llm.ko" ]; then
		read -ra llm_deps < <(modinfo -F depends "$ROOT/llm.ko" | tr ',' ' ') || true
	fi
	for name in "${KMODS_ALWAYS[@]}" "${KMODS_EXTRA[@]}"; do
		name=${name//-/_}
		kmod_closure "$name"
		[ ${#KMOD_ORDER[@]} -gt 0 ] || continue
		all+=("${KMOD_ORDER[@]}")
		echo "$name: ${KMOD_ORDER[*]:0:${#KMOD_ORDER[@]}-1}" >> "$root/kmod/modules.dep"
	done
	if [ ${#llm_deps[@]} -gt 0 ]; then
		kmod_closure "${llm_deps[@]}"
		all+=("${KMOD_ORDER[@]}")
		echo "llm: ${KMOD_ORDER[*]}" >> "$root/kmod/modules.dep"
	fi
	for name in "${!KMOD_BUILTIN_USED[@]}"; do
		echo "$name" >> "$root/kmod/modules.builtin"
	done
	for name in $(printf '%s\n' "${all[@]}" | sort -u); do
		file=$(kmod_file "$name")
		case $file in
		*.xz) xz -dc "$file" > "$root/kmod/$name.ko" ;;
		*.zst) zstd -qdc "$file" > "$root/kmod/$name.ko" ;;
		*.gz) gzip -dc "$file" > "$root/kmod/$name.ko" ;;
		*) cp "$file" "$root/kmod/$name.ko" ;;
		esac || die "cannot copy $file into the initramfs"
	done
	if [ ${#KMOD_MISSING[@]} -gt 0 ]; then
		note "warning: $KMOD_DIR has no module $(printf '%s\n' "${KMOD_MISSING[@]}" | sort -u | tr '\n' ' ')(neither a file nor built in): kmod_load and llm_load fail on what needs them"
	fi
}

# Static helper programs for the guest: qemu-tests/helpers/NAME.c ->
# /bin/NAME, built into $BUILD/qemu-helpers (shared by every --out).
build_helpers() {
	local src bin

	mkdir -p "$HELPERS"
	for src in "$HERE"/helpers/*.c; do
		[ -f "$src" ] || continue
		bin=$HELPERS/$(basename "$src" .c)
		[ "$bin" -nt "$src" ] && [ "$bin" -nt "$ROOT/uapi/llm.h" ] && continue
		${CC:-gcc} -static -O2 -Wall -Wextra -I"$ROOT" -o "$bin.$$" "$src" ||
			die "cannot build the guest helper $src"
		mv -f "$bin.$$" "$bin"
	done
}

# busybox and its applet links, made once into $BUILD/qemu-busybox (forking
# ln four hundred times takes seconds) and copied into each new root.
install_busybox() {
	local root=$1 cache=$BUILD/qemu-busybox tmp applet

	# Runs in parallel (the self-test) share the cache: one at a time.
	mkdir -p "$BUILD"
	exec 8> "$BUILD/.qemu-busybox.lock"
	flock 8

	[ -x /bin/busybox ] || die "no /bin/busybox: run scripts/setup.sh (busybox-static)"
	if [ ! -f "$cache/.stamp" ] || [ /bin/busybox -nt "$cache/.stamp" ]; then
		if LC_ALL=C readelf -l /bin/busybox 2>/dev/null | grep -q 'program interpreter'; then
			die "/bin/busybox is not static: install busybox-static"
		fi
		tmp=$cache.$$
		rm -rf "$tmp"
		mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin}
		cp /bin/busybox "$tmp/bin/busybox"
		for applet in $(/bin/busybox --list-full); do
			[ -e "$tmp/$applet" ] || [ -L "$tmp/$applet" ] ||
				ln -s /bin/busybox "$tmp/$applet"
		done
		touch "$tmp/.stamp"
		if [ ! -f "$cache/.stamp" ] || [ /bin/busybox -nt "$cache/.stamp" ]; then
			rm -rf "$cache"
		fi
		# Another run may have won the race; either copy is good.
		mv -T "$tmp" "$cache" 2>/dev/null || rm -rf "$tmp"
	fi
	cp -a "$cache"/{bin,sbin,usr} "$root/"
	flock -u 8
	exec 8>&-
}

build_initramfs() {
	local root=$OUT/root models=${LLM_MODELS:-$ROOT/models}

	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run}
	mkdir -p "$root"/{guest,tests,models,extra}
	install_busybox "$root"

	install -m 0755 "$HERE/guest/init" "$root/init"
	install -m 0644 "$HERE"/guest/*.sh "$root/guest/"
	cp "$TESTS_DIR"/*.sh "$root/tests/"
	[ -f "$ROOT/llm.ko" ] && cp "$ROOT/llm.ko" "$root/llm.ko"
	if [ -x "$BUILD/llmctl.static" ]; then
		cp "$BUILD/llmctl.static" "$root/bin/llmctl"
	else
		note "warning: $BUILD/llmctl.static is missing (make user)"
	fi
	cp "$HELPERS"/* "$root/bin/" 2>/dev/null || true
	install_kmods "$root"
	# none (the harness's self-test): the tests that need one fail
	if [ -d "$models" ]; then
		find "$models" -maxdepth 1 -type f \( -name '*.gguf' -o -name '*.bin' \) \
			-exec cp -t "$root/models/" {} +
	fi
	[ -d "$EXTRA_DIR" ] && cp -a "$EXTRA_DIR/." "$root/extra/"
	[ -z "$INITRAMFS_HOOK" ] || "$INITRAMFS_HOOK" "$root"

	(cd "$root" && find . | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | gzip -1 > "$OUT/initramfs.cpio.gz.new"
	mv "$OUT/initramfs.cpio.gz.new" "$OUT/initramfs.cpio.gz"
}

# header FILE KEY DEFAULT: the value of a '# KEY: value' line near the top.
header() {
	local v

	v=$(sed -n "1,30s/^# *$2: *\\([^ ]*\\).*/\\1/p" "$1" | head -1)
	echo "${v:-$3}"
}

# Start one VM in the background under timeout(1); remember it.
start_test() {
	local name=$1 file=$TESTS_DIR/$1.sh t mem smp

	t=${TIMEOUT:-$(header "$file" timeout $DEFAULT_TIMEOUT)}
	mem=${LLM_QEMU_MEMORY:-$(header "$file" memory $DEFAULT_MEMORY)}
	smp=$(header "$file" smp $DEFAULT_SMP)
	T_LIMIT[$name]=$t
	T_START[$name]=$EPOCHREALTIME
	note "start $name (timeout ${t}s, ${mem}, ${smp} cpu)"
	local quiet= out=$OUT/logs/$name.raw

	[ $CONSOLE -eq 1 ] && quiet=quiet
	# line by line as it comes (make demo streams it), without the serial
	# line's CR before each LF (a progress bar's own CRs stay)
	if [ $CONSOLE -eq 1 ]; then
		exec 3> >(tee "$out" | sed -u 's/\r$//' >&2)
	else
		exec 3> "$out"
	fi
	timeout -k 5 "$t" qemu-system-x86_64 \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial stdio -m "$mem" -smp "$smp" "${ACCEL[@]}" \
		-kernel "$KIMG" -initrd "$OUT/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 oops=panic $quiet llm_test=$name ${LLM_QEMU_APPEND:-}" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 ${LLM_QEMU_ARGS:-} \
		< /dev/null >&3 2>&1 &
	exec 3>&-
	RUNNING[$!]=$name
	# A boot that hangs before /init is no test's doing: stop it early.
	if [ "$BOOT_TIMEOUT" -lt "$t" ]; then
		WATCHDOG[$!]=$(boot_watchdog $! "$out")
	fi
}

# Kill VM @1 if its log @2 has no begin marker after BOOT_TIMEOUT; prints
# the watchdog's pid.
boot_watchdog() {
	(
		sleep "$BOOT_TIMEOUT"
		grep -q '^=== llm-qemu: begin' "$2" 2>/dev/null ||
			kill -TERM "$1" 2>/dev/null
	) > /dev/null 2>&1 &
	echo $!
}

# Lines between two markers of the serial log.
section() {
	sed -n "/^=== llm-qemu: $2\$/,/^=== llm-qemu: $3/p" "$1" | sed '1d;$d'
}

# Kernel log lines that match BAD_RE, each once (the guest prints the log
# live and again at its end).  With @2 = early: only those logged before
# llm.ko's first load (the first "llm-qemu: insmod llm.ko" line llm_load
# writes to /dev/kmsg; all of them if the test never loads it): the boot's
# own or the test's set-up, never llm.ko's doing.  With @2 = late: only
# those after.
kernel_splats() {
	local first

	first=$(grep -m1 -E "$KLINE_RE llm-qemu: insmod llm\.ko" "$1" |
		sed -E 's/^[^[]*\[ *([0-9]+\.[0-9]+)\].*/\1/' || true)
	grep -E "$KLINE_RE.*($BAD_RE)" "$1" |
		awk -v first="${first:-inf}" -v want="$2" '
		{ k = $0; if (match(k, /\[ *[0-9]+\.[0-9]+\]/)) k = substr(k, RSTART)
		  if (seen[k]++) next
		  t = substr(k, 2) + 0
		  early = first == "inf" || t < first + 0
		  if ((want == "early") == early) print }' || true
}

# The first splat line of @1 from its time stamp on, for a FAIL line.
first_splat() {
	printf '%s\n' "$1" | head -1 | sed 's/^.*\(\[ *[0-9]*\.[0-9]*\]\)/\1/'
}

# verdict LOG STATUS TAG NAME LIMIT [WHY]: the result lines of a guest's
# serial log LOG (its QEMU ended with STATUS, after at most LIMIT seconds;
# the script was tests/NAME.sh), then a line "FAIL TAG: ..." for each way
# the run went wrong: WHY, the harness's own reason when it stopped the
# guest, or one read from the log; no result line; kernel splats (to stderr
# too, prefixed with TAG).  Sets VERDICT_WHY to the run's failure, if any.
verdict() {
	local log=$1 st=$2 tag=$3 name=$4 limit=$5 why=${6:-} lines splats
	local booted=0

	grep -q '^=== llm-qemu: begin' "$log" && booted=1
	if grep -q '^=== llm-qemu: results$' "$log"; then
		lines=$(section "$log" results dmesg | grep -E '^(PASS|FAIL|SKIP) ' || true)
	else
		lines=$(grep -E "^(PASS|FAIL|SKIP) ${tag%%/*}/" "$log" || true)
	fi
	[ -n "$lines" ] && printf '%s\n' "$lines"
	if [ -n "$why" ]; then
		:
	elif [ $booted = 0 ]; then
		why="the guest did not reach /init, twice (qemu exit status $st; a boot hang is stopped after ${BOOT_TIMEOUT} s)"
	elif [ "$st" -eq 124 ] || [ "$st" -eq 137 ]; then
		why="timed out after $limit s"
	elif ! grep -q '^=== llm-qemu: done$' "$log"; then
		why="the guest stopped before the end (qemu exit status $st)"
		# panic=-1 with -no-reboot: a panic ends QEMU with 0.
		[ "$st" -eq 0 ] && why+=": the kernel panicked or rebooted"
	elif grep -q '^=== llm-qemu: script not run$' "$log"; then
		why="the script was not run (lines above say why)"
	elif ! grep -q "^=== llm-qemu: test-end $name\$" "$log"; then
		why="the script stopped before its last line ($(grep -m1 '^=== llm-qemu: script exit' "$log" | sed 's/^=== llm-qemu: //'))"
	fi
	VERDICT_WHY=$why
	[ -n "$why" ] && echo "FAIL $tag: run: $why"
	[ -z "$lines" ] && echo "FAIL $tag: results: the script printed no result lines"
	# Splats before llm.ko was first loaded (a kernel bug at boot)
	# fail the test too, under their own name.
	splats=$(kernel_splats "$log" early)
	if [ -n "$splats" ]; then
		echo "FAIL $tag: kernel log before llm.ko was loaded: $(first_splat "$splats")"
		printf '%s\n' "$splats" | head -40 | sed "s|^|$tag: kernel, before llm.ko: |" >&2
	fi
	splats=$(kernel_splats "$log" late)
	if [ -n "$splats" ]; then
		echo "FAIL $tag: kernel log: $(first_splat "$splats")"
		printf '%s\n' "$splats" | head -40 | sed "s|^|$tag: kernel: |" >&2
	fi
	return 0
}

# note_failure NAME TAG LOG: on stderr, where a failed guest's log is and,
# after a verdict with a run failure, what it printed last before things
# went wrong (prefixed with TAG).
note_failure() {
	note "$1: failed; full serial log: $3"
	[ -n "$VERDICT_WHY" ] && sed '/^=== llm-qemu: script exit/,$d' "$3" |
		tail -5 | sed "s|^|$2: log: |" >&2
	return 0
}

# Decide the outcome of one finished VM; result lines to RESULTS/NAME.
judge() {
	local name=$1 st=$2 log=$OUT/logs/$1.log res=$OUT/results/$1

	# the console's tee may still be writing the last lines
	[ $CONSOLE -eq 1 ] && sleep 0.3
	tr -d '\r' < "$OUT/logs/$name.raw" > "$log"
	rm -f "$OUT/logs/$name.raw"

	# The kernel never reached /init (a boot hang or crash under TCG, before
	# any of our code runs): boot once more before calling it a failure.
	if ! grep -q '^=== llm-qemu: begin' "$log" && [ -z "${RETRIED[$name]:-}" ]; then
		RETRIED[$name]=1
		cp "$log" "$OUT/logs/$name.boot1.log"
		note "$name: the guest did not reach /init (qemu exit status $st); booting it again (first log: $OUT/logs/$name.boot1.log)"
		return 1
	fi

	verdict "$log" "$st" "qemu/$name" "$name" "${T_LIMIT[$name]}" > "$res"
	grep -q '^FAIL ' "$res" && note_failure "$name" "qemu/$name" "$log"
	return 0
}

# Wait for any VM to finish, judge it, print its result lines.
reap_one() {
	local pid=0 st=0 name secs

	wait -n -p pid "${!RUNNING[@]}" || st=$?
	name=${RUNNING[$pid]}
	unset "RUNNING[$pid]"
	if [ -n "${WATCHDOG[$pid]:-}" ]; then
		kill "${WATCHDOG[$pid]}" 2>/dev/null || true
		unset "WATCHDOG[$pid]"
	fi
	if ! judge "$name" "$st"; then
		start_test "$name"
		return
	fi
	secs=$(awk -v a="${T_START[$name]}" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	note "done  $name in ${secs}s"
	cat "$OUT/results/$name"
}

stop_all() {
	local pid

	for pid in "${!RUNNING[@]}"; do
		kill -TERM "$pid" ${WATCHDOG[$pid]:-} 2>/dev/null || true
	done
}

main() {
	local name t0 secs
	declare -ga SELECTED=() ALL_TESTS=() TESTS=() ACCEL=()
	declare -gA RUNNING=() T_START=() T_LIMIT=() WATCHDOG=() RETRIED=()
	declare -gA KMOD_PATH=() KMOD_BUILTIN=()

	parse_args "$@"
	pick_tests
	if [ $LIST -eq 1 ]; then
		printf '%s\n' "${ALL_TESTS[@]}"
		exit 0
	fi
	[ ${#TESTS[@]} -gt 0 ] || die "no test scripts in $TESTS_DIR"
	command -v qemu-system-x86_64 > /dev/null ||
		die "qemu-system-x86_64 not found: run scripts/setup.sh"

	find_kernel
	find_kmods
	pick_accel
	check_module
	mkdir -p "$OUT/logs" "$OUT/results"
	rm -f "$OUT"/results/*
	t0=$EPOCHREALTIME
	build_helpers
	build_initramfs
	note "kernel $KIMG, accel $ACCEL_NAME, ${#TESTS[@]} tests, $JOBS at a time"

	trap 'note "interrupted: stopping the VMs"; stop_all; exit 130' INT TERM
	for name in "${TESTS[@]}"; do
		while [ ${#RUNNING[@]} -ge "$JOBS" ]; do
			reap_one
		done
		start_test "$name"
	done
	while [ ${#RUNNING[@]} -gt 0 ]; do
		reap_one
	done
	trap - INT TERM

	secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	note "${#TESTS[@]} tests in ${secs}s ($ACCEL_NAME)"
	if cat "$OUT"/results/* | grep -q '^FAIL '; then
		exit 1
	fi
	exit 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main "$@"
fi
