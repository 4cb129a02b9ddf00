#!/bin/sh
# Checks that libvmm.so exports its API and nothing else: the dynamic symbols
# it defines must be exactly the functions include/libvmm.h declares with
# VMM_API (read from the header, so the list lives in one place). Lists the
# offenders and fails otherwise.
# Usage: export_check.sh NM HEADER LIBRARY
set -eu
export LC_ALL=C
NM=$1
HEADER=$2
LIB=$3

# The name of each "VMM_API <type> name(" declaration.
api=$(sed -n 's/^VMM_API[^(]*[^A-Za-z0-9_]\([A-Za-z_][A-Za-z0-9_]*\)[ 	]*(.*/\1/p' \
	"$HEADER" | sort -u)
if [ -z "$api" ]; then
	echo "export_check: no VMM_API declarations found in $HEADER"
	exit 1
fi

# Defined dynamic symbols, without any version suffix. Older linkers define
# the section-boundary symbols below in every shared library; they are not
# the library's code.
exported=$("$NM" -D --defined-only "$LIB" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' |
	grep -v -x -e _init -e _fini -e _edata -e _end -e __bss_start | sort -u) || true

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' "$api" >"$tmp/api"
printf '%s\n' "$exported" | sed '/^$/d' >"$tmp/exported"

extra=$(comm -13 "$tmp/api" "$tmp/exported")
missing=$(comm -23 "$tmp/api" "$tmp/exported")
status=0
if [ -n "$extra" ]; then
	echo "export_check: $LIB exports symbols that are not VMM_API in $HEADER:"
	printf '  %s\n' $extra
	status=1
fi
if [ -n "$missing" ]; then
	echo "export_check: VMM_API functions of $HEADER that $LIB does not export:"
	printf '  %s\n' $missing
	status=1
fi
if [ "$status" -eq 0 ]; then
	echo "export_check: $(printf '%s\n' "$api" | wc -l) symbols exported, all VMM_API"
fi
exit $status
