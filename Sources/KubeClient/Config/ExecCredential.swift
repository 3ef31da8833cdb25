import Foundation

/// What an exec credential plugin handed back: a bearer token, or a client certificate and key,
/// and when it stops being valid.
public struct ExecCredential: Sendable, Equatable {
    public var token: Secret<String>?
    /// PEM text of the client certificate chain (`status.clientCertificateData`).
    public var clientCertificateData: String?
    /// PEM text of the client key (`status.clientKeyData`).
    public var clientKeyData: Secret<String>?
    /// `status.expirationTimestamp`; `nil` means valid until a request is rejected with 401.
    public var expirationTimestamp: Date?

    public init(
        token: Secret<String>? = nil,
        clientCertificateData: String? = nil,
        clientKeyData: Secret<String>? = nil,
        expirationTimestamp: Date? = nil
    ) {
        self.token = token
        self.clientCertificateData = clientCertificateData
        self.clientKeyData = clientKeyData
        self.expirationTimestamp = expirationTimestamp
    }

    /// The certificate and key as a ``ClientCertificate`` for ``TLSSettings``, when the plugin gave them.
    public var clientCertificate: ClientCertificate? {
        guard let clientCertificateData, let clientKeyData else { return nil }
        return ClientCertificate(
            certificateChainPEM: Array(clientCertificateData.utf8),
            privateKeyPEM: Secret(Array(clientKeyData.revealed.utf8)),
            certificateOrigin: "exec plugin status.clientCertificateData",
            keyOrigin: "exec plugin status.clientKeyData")
    }

    /// Whether the credential has expired at `now` (client-go refreshes once `now` is past the expiry).
    public func isExpired(at now: Date) -> Bool {
        guard let expirationTimestamp else { return false }
        return now >= expirationTimestamp
    }
}

// MARK: - Wire format

extension ExecCredential {
    /// The `ExecCredential` object a plugin prints on stdout.
    struct Response: Decodable {
        struct Status: Decodable {
            var token: Secret<String>?
            var clientCertificateData: String?
            var clientKeyData: Secret<String>?
            var expirationTimestamp: String?
        }

        var apiVersion: String?
        var kind: String?
        var status: Status?
    }

    /// The `ExecCredential` object passed to the plugin in `KUBERNETES_EXEC_INFO`.
    struct Request: Encodable {
        struct Spec: Encodable {
            var cluster: ExecClusterInfo?
            var interactive: Bool
        }

        var apiVersion: String
        var kind = "ExecCredential"
        var spec: Spec
    }

    /// Parses a plugin's stdout and checks it against what the kubeconfig asked for.
    ///
    /// Errors never quote the output: it may hold a token.
    /// - Throws: ``KubeconfigError`` with ``KubeconfigError/Code/execPluginInvalidOutput`` or
    ///   ``KubeconfigError/Code/execPluginAPIVersionMismatch``.
    static func parse(_ output: Data, expectedAPIVersion: String, subject: String, hint: String?) throws -> ExecCredential {
        func invalid(_ detail: String) -> KubeconfigError {
            KubeconfigError(
                code: .execPluginInvalidOutput, subject: subject, detail: detail,
                hint: hint ?? "run the plugin by hand and check that it prints an ExecCredential JSON object")
        }
        let response: Response
        do {
            response = try JSONDecoder().decode(Response.self, from: output)
        } catch {
            throw invalid("printed something that is not an ExecCredential JSON object")
        }
        guard response.kind == "ExecCredential" else {
            throw invalid("printed an object whose kind is not ExecCredential")
        }
        guard let apiVersion = response.apiVersion, apiVersion == expectedAPIVersion else {
            let answered = response.apiVersion.map { Self.isPlainIdentifier($0) ? "\"\($0)\"" : "an unexpected value" }
            throw KubeconfigError(
                code: .execPluginAPIVersionMismatch, subject: subject,
                detail: "the kubeconfig asks for apiVersion \"\(expectedAPIVersion)\" but the plugin answered with "
                    + (answered ?? "no apiVersion"),
                hint: "set exec.apiVersion in the kubeconfig to the version the plugin speaks, or update the plugin")
        }
        guard let status = response.status else {
            throw invalid("printed an ExecCredential without a status")
        }
        let token = status.token.flatMap { $0.revealed.isEmpty ? nil : $0 }
        let certificate = Kubeconfig.nonEmpty(status.clientCertificateData)
        let key = status.clientKeyData.flatMap { $0.revealed.isEmpty ? nil : $0 }
        if (certificate == nil) != (key == nil) {
            throw invalid("returned only one of status.clientCertificateData and status.clientKeyData; both are needed")
        }
        if token == nil && certificate == nil {
            throw invalid("returned neither status.token nor status.clientCertificateData/clientKeyData")
        }
        var expiry: Date?
        if let text = Kubeconfig.nonEmpty(status.expirationTimestamp) {
            guard let date = parseRFC3339(text) else {
                throw invalid("returned a status.expirationTimestamp that is not an RFC 3339 time")
            }
            expiry = date
        }
        return ExecCredential(
            token: token, clientCertificateData: certificate, clientKeyData: key, expirationTimestamp: expiry)
    }

    /// RFC 3339 with or without fractional seconds (`2026-11-27T04:00:00Z`, `…00.123+01:00`).
    static func parseRFC3339(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Letters, digits and `./-` only, short: safe to echo back in an error.
    private static func isPlainIdentifier(_ text: String) -> Bool {
        text.count <= 100 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "./-".contains($0)) }
    }
}
