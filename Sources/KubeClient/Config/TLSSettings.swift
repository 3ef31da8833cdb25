import NIOSSL

/// The TLS side of a resolved cluster: whom to trust, whether to verify, and the client identity.
///
/// Holds PEM bytes rather than NIOSSL objects so the value is plain data (easy to compare, test and
/// pass around); ``makeTLSConfiguration()`` does the parsing, and its errors name the kubeconfig
/// field the bytes came from.
public struct TLSSettings: Sendable, Equatable {
    /// PEM CA bundle to trust *instead of* the system roots; `nil` means system roots.
    public var trustedCertificatesPEM: [UInt8]?
    /// Where ``trustedCertificatesPEM`` came from, e.g. `certificate-authority-data of cluster "prod"`.
    public var trustedCertificatesOrigin: String?
    /// kubectl's `insecure-skip-tls-verify`: no certificate or hostname checks at all.
    public var insecureSkipVerify: Bool
    /// kubectl's `tls-server-name`. NIOSSL's `TLSConfiguration` has no field for it: the HTTP layer
    /// passes it as the SNI / verification hostname when it opens the connection.
    public var serverName: String?
    /// Client certificate authentication (mutual TLS), when configured.
    public var clientCertificate: ClientCertificate?

    public init(
        trustedCertificatesPEM: [UInt8]? = nil,
        trustedCertificatesOrigin: String? = nil,
        insecureSkipVerify: Bool = false,
        serverName: String? = nil,
        clientCertificate: ClientCertificate? = nil
    ) {
        self.trustedCertificatesPEM = trustedCertificatesPEM
        self.trustedCertificatesOrigin = trustedCertificatesOrigin
        self.insecureSkipVerify = insecureSkipVerify
        self.serverName = serverName
        self.clientCertificate = clientCertificate
    }

    /// Builds the NIOSSL client configuration: full verification unless ``insecureSkipVerify``,
    /// trust roots replaced only when a CA was given, client certificate chain and key when set.
    /// - Throws: ``KubeconfigError/Code/invalidPEM`` naming the field whose bytes NIOSSL rejected.
    public func makeTLSConfiguration() throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = insecureSkipVerify ? .none : .fullVerification
        if let trustedCertificatesPEM {
            let origin = trustedCertificatesOrigin ?? "certificate-authority"
            configuration.trustRoots = .certificates(
                try Self.certificates(from: trustedCertificatesPEM, origin: origin))
        }
        if let clientCertificate {
            let chain = try Self.certificates(
                from: clientCertificate.certificateChainPEM, origin: clientCertificate.certificateOrigin)
            configuration.certificateChain = chain.map { .certificate($0) }
            let key: NIOSSLPrivateKey
            do {
                key = try NIOSSLPrivateKey(bytes: clientCertificate.privateKeyPEM.revealed, format: .pem)
            } catch {
                // The NIOSSL error says nothing useful and the bytes are secret: name the field only.
                throw KubeconfigError(
                    code: .invalidPEM, subject: clientCertificate.keyOrigin,
                    detail: "is not a PEM private key that TLS can use",
                    hint: "it must hold an unencrypted PEM key (BEGIN PRIVATE KEY / RSA / EC PRIVATE KEY)")
            }
            configuration.privateKey = .privateKey(key)
        }
        return configuration
    }

    private static func certificates(from pem: [UInt8], origin: String) throws -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(pem)
        } catch {
            throw KubeconfigError(
                code: .invalidPEM, subject: origin, detail: "is not a PEM certificate bundle",
                hint: "it must hold one or more `-----BEGIN CERTIFICATE-----` blocks", underlying: error)
        }
        guard !certificates.isEmpty else {
            throw KubeconfigError(
                code: .invalidPEM, subject: origin, detail: "holds no PEM certificate",
                hint: "it must hold one or more `-----BEGIN CERTIFICATE-----` blocks")
        }
        return certificates
    }
}

/// A client certificate chain and its private key, as PEM bytes.
public struct ClientCertificate: Sendable, Equatable {
    public var certificateChainPEM: [UInt8]
    public var privateKeyPEM: Secret<[UInt8]>
    /// The field the chain came from, for error messages.
    public var certificateOrigin: String
    /// The field the key came from, for error messages.
    public var keyOrigin: String

    public init(
        certificateChainPEM: [UInt8],
        privateKeyPEM: Secret<[UInt8]>,
        certificateOrigin: String = "client-certificate",
        keyOrigin: String = "client-key"
    ) {
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
        self.certificateOrigin = certificateOrigin
        self.keyOrigin = keyOrigin
    }
}
