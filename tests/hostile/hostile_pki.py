"""Throwaway PKI for the hostile ACME server (tests only).

A root, an issuing intermediate under it, a TLS certificate for 127.0.0.1 and
localhost (so the client verifies the server with --trust ROOT), and leaf
certificates made to order -- for the CSR's key or another, for the CSR's names
or others, valid now or long expired -- because several hostile scenarios are
about handing the client the wrong certificate.
"""
import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ONE_DAY = datetime.timedelta(days=1)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _builder(subject, issuer, public_key, not_before, not_after):
    return (x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after))


def _ca_cert(cn, key, issuer_cert, issuer_key, path_len):
    now = _now()
    issuer = _name(cn) if issuer_cert is None else issuer_cert.subject
    b = _builder(_name(cn), issuer, key.public_key(), now - ONE_DAY, now + 365 * ONE_DAY)
    b = b.add_extension(x509.BasicConstraints(ca=True, path_length=path_len), critical=True)
    b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
    b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    return b.sign(issuer_key if issuer_key is not None else key, hashes.SHA256())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def new_key():
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class Pki:
    def __init__(self):
        self.root_key = new_key()
        self.root = _ca_cert("Hostile Test Root", self.root_key, None, None, 1)
        self.issuer_key = new_key()
        self.issuer = _ca_cert("Hostile Test Issuer", self.issuer_key, self.root, self.root_key, 0)
        self.tls_key = new_key()
        self.tls = self._tls_cert()

    def _tls_cert(self):
        now = _now()
        b = _builder(_name("127.0.0.1"), self.root.subject, self.tls_key.public_key(), now - ONE_DAY, now + 30 * ONE_DAY)
        b = b.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        return b.sign(self.root_key, hashes.SHA256())

    def leaf(self, public_key, names, not_before=None, not_after=None):
        """A leaf signed by the issuing intermediate for `public_key` and `names`."""
        now = _now()
        not_before = not_before or now - datetime.timedelta(minutes=5)
        not_after = not_after or now + 90 * ONE_DAY
        b = _builder(_name(names[0] if names else "hostile"), self.issuer.subject, public_key, not_before, not_after)
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.issuer_key.public_key()),
                            critical=False)
        return b.sign(self.issuer_key, hashes.SHA256())

    def chain_pem(self, leaf):
        return pem(leaf) + pem(self.issuer)


def csr_facts(der):
    """(public key, DNS names) of a DER CSR."""
    csr = x509.load_der_x509_csr(der)
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = san.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    return csr.public_key(), names


def expired_window():
    """A validity window that ended long ago."""
    now = _now()
    return now - 400 * ONE_DAY, now - 300 * ONE_DAY
