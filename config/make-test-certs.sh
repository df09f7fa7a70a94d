#!/usr/bin/env bash
# Makes test certificates for config/web-config.example.yml, so that it checks clean
# (`cognito-exporter --config.check --web.config.file config/web-config.example.yml`),
# and a variant of it that turns every protection on, to try them:
#
#   ca.crt, ca.key            a CA (X.509 v3, CA:TRUE, keyCertSign), valid 30 days
#   server.crt, server.key    signed by it, for localhost and 127.0.0.1 (serverAuth)
#   client.crt, client.key    signed by it, CN prometheus (clientAuth)
#   web-config.test.yml       the example with RequireAndVerifyClientCert against
#                             ca.crt, and user prometheus with a bcrypt hash of a fresh
#                             password (printed at the end; TEST_PASSWORD sets it)
#
# Usage: config/make-test-certs.sh [DIR]   (default: the directory of this script)
# Needs openssl, and python3 with the bcrypt module (pip install bcrypt). For tests
# only: the keys are not protected and the CA signs anything this script asks it to.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${1:-$HERE}
mkdir -p "$DIR"
cd "$DIR"
umask 077

command -v openssl >/dev/null || { echo "make-test-certs.sh: needs openssl" >&2; exit 1; }
python3 -c 'import bcrypt' 2>/dev/null ||
  { echo "make-test-certs.sh: needs python3's bcrypt module (pip install bcrypt)" >&2; exit 1; }

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# Signs the request on stdin with the CA, with the extensions in $2, into $1.
sign() {
  openssl x509 -req -days 30 -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" \
    -extfile <(printf '%s\n' "$2") -out "$1" 2>/dev/null
}

key ca.key
openssl req -x509 -new -key ca.key -days 30 -subj "/CN=cognito-exporter test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectKeyIdentifier=hash" -out ca.crt

key server.key
openssl req -new -key server.key -subj "/CN=localhost" |
  sign server.crt "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
authorityKeyIdentifier=keyid"

key client.key
openssl req -new -key client.key -subj "/CN=prometheus" |
  sign client.crt "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=DNS:prometheus
authorityKeyIdentifier=keyid"

password=${TEST_PASSWORD:-$(openssl rand -hex 12)}
hash=$(PASSWORD=$password python3 -c \
  'import bcrypt, os; print(bcrypt.hashpw(os.environ["PASSWORD"].encode(), bcrypt.gensalt(10)).decode())')
sed -e 's/^  # client_auth_type: RequireAndVerifyClientCert/  client_auth_type: RequireAndVerifyClientCert/' \
  -e 's/^  # client_ca_file: ca.crt .*/  client_ca_file: ca.crt/' \
  -e "s|^  prometheus: .*|  prometheus: $hash|" \
  "$HERE/web-config.example.yml" >web-config.test.yml
grep -q '^  client_auth_type: RequireAndVerifyClientCert' web-config.test.yml ||
  { echo "make-test-certs.sh: the example's client_auth_type line moved; update this script" >&2; exit 1; }
chmod 644 ca.crt server.crt client.crt web-config.test.yml

cat <<EOF
Wrote ca.crt, server.crt/.key, client.crt/.key and web-config.test.yml in $DIR.
User prometheus, password: $password
Try: cognito-exporter --demo --web.listen-address 127.0.0.1:9866 --web.config.file $DIR/web-config.test.yml
     curl --cacert $DIR/ca.crt --cert $DIR/client.crt --key $DIR/client.key \\
       -u prometheus:$password https://localhost:9866/metrics
EOF
