"""A SAML 2.0 identity provider for the tests: its own key and certificate, its metadata, and
responses to Carnet's requests signed with xmlsec through OneLogin's toolkit (the same XML
signature code an IdP built on it uses) — and, on purpose, the responses a service provider
must refuse: unsigned, signed with another key, expired, for another audience, and the XML
signature-wrapping shapes that moved an unsigned assertion past a signature check elsewhere."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import secrets
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants as Constants
from onelogin.saml2.utils import OneLogin_Saml2_Utils as Utils

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
PASSWORD = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
MFA = "https://refeds.org/profile/mfa"


def _key_and_certificate(name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return (
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        certificate.public_bytes(serialization.Encoding.PEM).decode(),
    )


def _instant(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class SamlIdP:
    def __init__(self, entity_id: str = "https://idp.academie.example/saml"):
        self.entity_id = entity_id
        self.sso_url = "https://idp.academie.example/sso"
        self.key, self.certificate = _key_and_certificate("idp")

    def metadata(self) -> str:
        body = "".join(self.certificate.strip().splitlines()[1:-1])
        return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="{DS}" entityID="{self.entity_id}">
  <md:IDPSSODescriptor protocolSupportEnumeration="{SAMLP}" WantAuthnRequestsSigned="false">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{body}</ds:X509Certificate></ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="{Constants.BINDING_HTTP_REDIRECT}"
        Location="{self.sso_url}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""

    @staticmethod
    def request_of(location: str) -> dict:
        """What Carnet asked in its redirection: the request's ID, ACS and issuer."""
        encoded = parse_qs(urlsplit(location).query)["SAMLRequest"][0]
        request = etree.fromstring(Utils.decode_base64_and_inflate(encoded))
        return {
            "id": request.get("ID"),
            "acs": request.get("AssertionConsumerServiceURL"),
            "issuer": request.findtext(f"{{{SAML}}}Issuer"),
        }

    def response(
        self,
        request: dict,
        name_id: str,
        *,
        attributes: dict | None = None,
        signed: bool = True,
        key: tuple[str, str] | None = None,
        lifetime: dt.timedelta = dt.timedelta(minutes=5),
        issued: dt.datetime | None = None,
        audience: str | None = None,
        authn_class: str = PASSWORD,
    ) -> str:
        """A response to ``request``, base64 as the HTTP-POST binding carries it."""
        return self.encode(
            self.response_xml(
                request,
                name_id,
                attributes=attributes,
                signed=signed,
                key=key,
                lifetime=lifetime,
                issued=issued,
                audience=audience,
                authn_class=authn_class,
            )
        )

    @staticmethod
    def encode(xml: bytes) -> str:
        return base64.b64encode(xml).decode()

    def response_xml(
        self,
        request: dict,
        name_id: str,
        *,
        attributes=None,
        signed=True,
        key=None,
        lifetime=dt.timedelta(minutes=5),
        issued=None,
        audience=None,
        authn_class=PASSWORD,
    ) -> bytes:
        now = issued or dt.datetime.now(dt.UTC)
        until = _instant(now + lifetime)
        acs, request_id = request["acs"], request["id"]
        values = "".join(
            f'<saml:Attribute Name="{name}">'
            + "".join(f"<saml:AttributeValue>{v}</saml:AttributeValue>" for v in vals)
            + "</saml:Attribute>"
            for name, vals in (attributes or {}).items()
        )
        assertion = f"""<saml:Assertion xmlns:saml="{SAML}" ID="_a{secrets.token_hex(16)}"
    Version="2.0" IssueInstant="{_instant(now)}"><saml:Issuer>{self.entity_id}</saml:Issuer>
  <saml:Subject>
    <saml:NameID Format="{Constants.NAMEID_UNSPECIFIED}">{name_id}</saml:NameID>
    <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
      <saml:SubjectConfirmationData NotOnOrAfter="{until}" Recipient="{acs}"
          InResponseTo="{request_id}"/>
    </saml:SubjectConfirmation>
  </saml:Subject>
  <saml:Conditions NotBefore="{_instant(now - dt.timedelta(seconds=30))}" NotOnOrAfter="{until}">
    <saml:AudienceRestriction><saml:Audience>{audience or request["issuer"]}</saml:Audience>
    </saml:AudienceRestriction>
  </saml:Conditions>
  <saml:AuthnStatement AuthnInstant="{_instant(now)}" SessionIndex="_s{secrets.token_hex(8)}">
    <saml:AuthnContext><saml:AuthnContextClassRef>{authn_class}</saml:AuthnContextClassRef>
    </saml:AuthnContext>
  </saml:AuthnStatement>
  <saml:AttributeStatement>{values}</saml:AttributeStatement>
</saml:Assertion>"""
        if not values:
            assertion = assertion.replace("<saml:AttributeStatement></saml:AttributeStatement>", "")
        if signed:
            private, certificate = key or (self.key, self.certificate)
            assertion = Utils.add_sign(
                assertion,
                private,
                certificate,
                sign_algorithm=Constants.RSA_SHA256,
                digest_algorithm=Constants.SHA256,
            )
            assertion = assertion.decode() if isinstance(assertion, bytes) else assertion
            assertion = assertion.split("?>", 1)[-1] if assertion.startswith("<?xml") else assertion
        return f"""<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}"
    ID="_r{secrets.token_hex(16)}" Version="2.0" IssueInstant="{_instant(now)}"
    Destination="{acs}" InResponseTo="{request_id}"><saml:Issuer>{self.entity_id}</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>
  </samlp:Status>{assertion}</samlp:Response>""".encode()

    @staticmethod
    def wrapped(signed_response: bytes, evil_name: str, shape: str) -> bytes:
        """XML signature wrapping: an unsigned assertion for ``evil_name`` beside the signed one
        ('sibling': first of two assertions), or the signed one hidden inside the evil one's
        Advice with its signature moved onto the evil one ('advice')."""
        root = etree.fromstring(signed_response)
        signed = root.find(f"{{{SAML}}}Assertion")
        evil = copy.deepcopy(signed)
        evil.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID").text = evil_name
        if shape == "sibling":
            signature = evil.find(f"{{{DS}}}Signature")
            evil.remove(signature)
            evil.set("ID", "_evil" + secrets.token_hex(8))
            signed.addprevious(evil)
        else:  # the signature's reference still names the original, now inside the evil one
            root.remove(signed)
            original = copy.deepcopy(signed)
            original.remove(original.find(f"{{{DS}}}Signature"))
            evil.set("ID", "_evil" + secrets.token_hex(8))
            advice = etree.SubElement(evil, f"{{{SAML}}}Advice")
            advice.append(original)
            root.append(evil)
        return etree.tostring(root)
