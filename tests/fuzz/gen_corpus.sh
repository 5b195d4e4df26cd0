#!/bin/sh
# gen_corpus.sh: regenerates tests/fuzz/corpus/ (run from the top of the
# tree).  Builds gen_corpus.c by hand against the asn1 and cms modules, runs
# it, adds the third-party pyasn1 glUseKEK vector (whole ContentInfo, its
# eContent PKIData, the glUseKEK control value), and copies every seed into
# the fuzz_der_structure corpus.
set -eu
out=tests/fuzz/corpus
vec=${SKD_VECTORS:-/work/shared/vectors}/glusekek-pyasn1.pem
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cc -std=c11 -g -O1 -Isrc -Itests -D_GNU_SOURCE -DOPENSSL_API_COMPAT=30000 \
    -DOPENSSL_NO_DEPRECATED -o "$tmp/gen_corpus" tests/fuzz/gen_corpus.c \
    src/asn1/*.c src/cms/*.c $(pkg-config --cflags --libs openssl)

rm -rf "$out"
mkdir -p "$out/fuzz_layers"
openssl cms -cmsout -inform PEM -outform DER -in "$vec" \
    -out "$out/fuzz_layers/ext-glusekek-pyasn1.der"
openssl cms -verify -noverify -binary -inform PEM -in "$vec" \
    -out "$tmp/glusekek-pyasn1-pkidata.der" 2>/dev/null
"$tmp/gen_corpus" "$out" "$tmp/glusekek-pyasn1-pkidata.der"

mkdir -p "$out/fuzz_der_structure"
for d in "$out"/fuzz_layers "$out"/fuzz_pkidata "$out"/fuzz_pkiresponse \
    "$out"/fuzz_status "$out"/fuzz_glkey; do
	for f in "$d"/*; do
		cp "$f" "$out/fuzz_der_structure/$(basename "$d")-$(basename "$f")"
	done
done
ls -R "$out" | wc -l
