import Foundation

/// A validated exec credential plugin, ready for ``ExecCredentialProvider``.
///
/// Built by the loader from a kubeconfig `user.exec` block: the apiVersion is one this client
/// understands, a relative command with a `/` is already absolute, and the cluster details are
/// attached when `provideClusterInfo` is set.
public struct ExecPluginConfiguration: Sendable, Equatable {
    /// `client.authentication.k8s.io/v1` (current) and `v1beta1` (still common).
    public static let supportedAPIVersions = [
        "client.authentication.k8s.io/v1",
        "client.authentication.k8s.io/v1beta1",
    ]

    public var apiVersion: String
    /// A bare name (looked up on `PATH` at run time) or a path.
    public var command: String
    public var args: [String]
    /// Laid over the current environment; later entries win.
    public var env: [Kubeconfig.ExecEnvVar]
    public var installHint: String?
    /// Sent as `spec.cluster` in `KUBERNETES_EXEC_INFO` when the kubeconfig has `provideClusterInfo: true`.
    public var clusterInfo: ExecClusterInfo?

    public init(
        apiVersion: String,
        command: String,
        args: [String] = [],
        env: [Kubeconfig.ExecEnvVar] = [],
        installHint: String? = nil,
        clusterInfo: ExecClusterInfo? = nil
    ) {
        self.apiVersion = apiVersion
        self.command = command
        self.args = args
        self.env = env
        self.installHint = installHint
        self.clusterInfo = clusterInfo
    }
}

/// The cluster half of `KUBERNETES_EXEC_INFO` (client-go's `ExecCredentialSpec.Cluster`).
public struct ExecClusterInfo: Sendable, Equatable, Encodable {
    public var server: String
    public var tlsServerName: String?
    public var insecureSkipTLSVerify: Bool
    /// PEM bytes; encoded as base64 like every `[]byte` in the Kubernetes JSON APIs.
    public var certificateAuthorityData: [UInt8]?
    public var proxyURL: String?
    public var disableCompression: Bool
    /// The cluster extension named `client.authentication.k8s.io/exec`, if any.
    public var config: Kubeconfig.ExtensionValue?

    public init(
        server: String,
        tlsServerName: String? = nil,
        insecureSkipTLSVerify: Bool = false,
        certificateAuthorityData: [UInt8]? = nil,
        proxyURL: String? = nil,
        disableCompression: Bool = false,
        config: Kubeconfig.ExtensionValue? = nil
    ) {
        self.server = server
        self.tlsServerName = tlsServerName
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.certificateAuthorityData = certificateAuthorityData
        self.proxyURL = proxyURL
        self.disableCompression = disableCompression
        self.config = config
    }

    /// Name of the cluster extension whose value is handed to the plugin as `config`.
    public static let extensionName = "client.authentication.k8s.io/exec"

    enum CodingKeys: String, CodingKey {
        case server, config
        case tlsServerName = "tls-server-name"
        case insecureSkipTLSVerify = "insecure-skip-tls-verify"
        case certificateAuthorityData = "certificate-authority-data"
        case proxyURL = "proxy-url"
        case disableCompression = "disable-compression"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(server, forKey: .server)
        try c.encodeIfPresent(tlsServerName, forKey: .tlsServerName)
        if insecureSkipTLSVerify { try c.encode(true, forKey: .insecureSkipTLSVerify) }
        try c.encodeIfPresent(
            certificateAuthorityData.map { Data($0).base64EncodedString() }, forKey: .certificateAuthorityData)
        try c.encodeIfPresent(proxyURL, forKey: .proxyURL)
        if disableCompression { try c.encode(true, forKey: .disableCompression) }
        try c.encodeIfPresent(config, forKey: .config)
    }
}
