import Crypto
import Foundation
import SwiftASN1
import X509

/// A throwaway certificate authority for the simulated API server: a CA, a server certificate
/// for 127.0.0.1/localhost and a client certificate for an admin user, made fresh at each start.
public struct CertificateAuthority: Sendable {
    public struct KeyPair: Sendable {
        public var certificatePEM: String
        public var privateKeyPEM: String
    }

    public let ca: KeyPair
    public let server: KeyPair
    public let client: KeyPair

    public init(now: Date = Date(), serverHosts: [String] = ["localhost"], serverIPs: [[UInt8]] = [[127, 0, 0, 1]]) throws {
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("longhorn-dr-simulator-ca") }
        let start = now.addingTimeInterval(-3600)
        let end = now.addingTimeInterval(30 * 86_400)
        let caCertificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey),
            notValidBefore: start, notValidAfter: end, issuer: caName, subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(caKey))

        func issue(subject: DistinguishedName, usage: ExtendedKeyUsage.Usage, names: [GeneralName]) throws -> KeyPair {
            let key = P256.Signing.PrivateKey()
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
                notValidBefore: start, notValidAfter: end, issuer: caName, subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                    try ExtendedKeyUsage([usage])
                    if !names.isEmpty { SubjectAlternativeNames(names) }
                },
                issuerPrivateKey: .init(caKey))
            return KeyPair(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
        }

        let serverNames = serverHosts.map { GeneralName.dnsName($0) } + serverIPs.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: $0[...])) }
        self.ca = KeyPair(certificatePEM: try caCertificate.serializeAsPEM().pemString, privateKeyPEM: caKey.pemRepresentation)
        self.server = try issue(subject: try DistinguishedName { CommonName("kube-apiserver") }, usage: .serverAuth, names: serverNames)
        self.client = try issue(
            subject: try DistinguishedName {
                OrganizationName("system:masters")
                CommonName("longhorn-dr-admin")
            }, usage: .clientAuth, names: [])
    }
}
