#!/usr/bin/env bash
# Generate TLS test material for bootrino's integration tests (EC P-256 everywhere).
#
# Usage: certs.sh OUTDIR
#
# Writes into OUTDIR (PEM; keys are unencrypted, mode 600):
#   ca.crt ca.key                 test CA (CN=bootrino test CA)
#   good.crt good.key             signed by the CA, SAN DNS:localhost IP:127.0.0.1 IP:::1, valid
#                                 from yesterday for 10 years
#   expired.crt expired.key       signed by the CA, same SAN, valid 2020-01-01 .. 2020-01-02
#   wronghost.crt wronghost.key   signed by the CA, valid, SAN DNS:wrong.example only
#   selfsigned.crt selfsigned.key self-signed (not from the CA), valid, SAN as good
# Idempotent: when all of these exist it does nothing. Runs on the same OUTDIR are serialised
# with flock(1) on OUTDIR/.lock, and a set is built in a temporary folder before it is moved in.
set -euo pipefail

out=${1:?usage: certs.sh OUTDIR}
names=(ca good expired wronghost selfsigned)

have_all() {
  local n
  for n in "${names[@]}"; do
    [[ -s $out/$n.crt && -s $out/$n.key ]] || return 1
  done
}
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
if have_all; then
  exit 0
fi

work=$(mktemp -d "$out/.certs.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

SAN_LOCAL="DNS:localhost,IP:127.0.0.1,IP:::1"

genkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

# CA
genkey ca
openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=bootrino test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectKeyIdentifier=hash" -out ca.crt

# Minimal `openssl ca` setup: unlike `openssl x509 -req` on OpenSSL 3.0, it takes explicit
# -startdate/-enddate, which the expired certificate needs.
mkdir -p db/new
: > db/index.txt
echo "unique_subject = no" > db/index.txt.attr
echo 1000 > db/serial
cat > ca.cnf <<'EOF'
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = db
database = db/index.txt
new_certs_dir = db/new
serial = db/serial
certificate = ca.crt
private_key = ca.key
default_md = sha256
policy = policy_any
copy_extensions = none
[ policy_any ]
commonName = supplied
[ server_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = ${ENV::SAN}
EOF

# issue NAME CN SAN STARTDATE ENDDATE   (dates as YYYYMMDDHHMMSSZ)
issue() {
  genkey "$1"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
  SAN=$3 openssl ca -batch -notext -config ca.cnf -extensions server_ext \
    -startdate "$4" -enddate "$5" -in "$1.csr" -out "$1.crt" 2>/dev/null
}

yesterday=$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)
in10y=$(date -u -d '10 years' +%Y%m%d%H%M%SZ)
issue good localhost "$SAN_LOCAL" "$yesterday" "$in10y"
issue expired localhost "$SAN_LOCAL" 20200101000000Z 20200102000000Z
issue wronghost wrong.example "DNS:wrong.example" "$yesterday" "$in10y"

# self-signed leaf, valid, right names, but no chain to the CA
genkey selfsigned
openssl req -x509 -new -key selfsigned.key -sha256 -days 3650 -subj "/CN=localhost" \
  -addext "subjectAltName=$SAN_LOCAL" -addext "basicConstraints=critical,CA:FALSE" \
  -addext "extendedKeyUsage=serverAuth" -out selfsigned.crt

chmod 600 ./*.key
for n in "${names[@]}"; do
  mv -f "$n.key" "$out/$n.key"
  mv -f "$n.crt" "$out/$n.crt"
done
