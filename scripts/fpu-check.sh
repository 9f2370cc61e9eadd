#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The FPU objects must not open, close or leave an FPU section: their
# callers do, in bounded chunks (docs/architecture.md, "Floating point in
# the kernel").  So no object that Kbuild builds with the FPU on (its
# llm-fpu-y list, the one list of them) may reference llm_fpu_begin,
# llm_fpu_end, llm_yield, kernel_fpu_begin*, kernel_fpu_end or
# cond_resched.  This reads nm -u of each, as kbuild built it in the tree:
# there llm_fpu_begin() is a function and llm_yield() cond_resched().  (In
# the userspace build they are empty inlines, which nm cannot see.)
# make module runs it.  Prints one PASS/FAIL line; exit status 1 on FAIL.
#
#   scripts/fpu-check.sh [OBJDIR]     (default: the top of the tree)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OBJDIR=${1:-$ROOT}

# Objects that still bracket or yield inside, each with why and until when
# (none now: the executor brackets the forward pass's leaves).  An
# exemption that is no longer needed fails the check, so it goes away.
EXEMPT=''

FORBIDDEN='^(llm_fpu_begin|llm_fpu_end|llm_yield|llm_parallel_for|kernel_fpu_begin.*|kernel_fpu_end|.*cond_resched.*)$'

# "llm-fpu-y += a.o" always; "llm-fpu-$(CONFIG_X) += b.o" only when built.
objs=$(sed -n 's/^llm-fpu-y[[:space:]]*+=[[:space:]]*//p' "$ROOT/Kbuild")
maybe=$(sed -n 's/^llm-fpu-\$([A-Z0-9_]*)[[:space:]]*+=[[:space:]]*//p' "$ROOT/Kbuild")
if [ -z "$objs$maybe" ]; then
	echo "FAIL fpu-objects: no llm-fpu-y objects found in Kbuild"
	exit 1
fi

bad= checked=0 exempt=
for o in $objs $maybe; do
	f=$OBJDIR/$o
	if [ ! -f "$f" ]; then
		case " $maybe " in *" $o "*) continue ;; esac
		bad="$bad $o (not built)"
		continue
	fi
	refs=$(nm -u "$f" | awk '{ print $NF }' | grep -E "$FORBIDDEN" | tr '\n' ' ')
	case " $EXEMPT " in
	*" $o "*)
		if [ -z "$refs" ]; then
			bad="$bad $o (exempt in $0 but clean now: remove the exemption)"
		else
			exempt="$exempt $o"
		fi
		continue
		;;
	esac
	checked=$((checked + 1))
	[ -n "$refs" ] && bad="$bad $o (${refs% })"
done

if [ -n "$bad" ]; then
	echo "FAIL fpu-objects: an FPU object brackets or yields itself:$bad"
	exit 1
fi
echo "PASS fpu-objects: $checked FPU objects in Kbuild's llm-fpu-y reference no FPU bracket or yield${exempt:+ (exempt:$exempt)}"
