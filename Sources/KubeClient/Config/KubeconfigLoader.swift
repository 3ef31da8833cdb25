import Foundation
import Yams

/// Finds, merges and resolves Kubernetes client configuration the way kubectl does.
///
/// Sources, in order:
/// 1. an explicit path (`--kubeconfig`): must exist, nothing else is consulted;
/// 2. `$KUBECONFIG`, a `:`-separated list merged like kubectl (per name the first file wins,
///    `current-context` from the first file that sets it, missing files skipped);
/// 3. otherwise `~/.kube/config`;
/// 4. the in-cluster service account, when the files above gave nothing.
///
/// A source that is merely absent (or empty) passes on to the next one. A source that exists but is
/// broken (bad YAML, unknown context, refused setting) stops loading with an error about that source:
/// silently falling back to another cluster would be worse for a tool that can restore over one.
/// When every source is absent, the single error lists each source with its reason.
public struct KubeconfigLoader: Sendable {
    /// Command-line choices that change what is loaded.
    public struct Options: Sendable, Equatable {
        /// `--kubeconfig`: load only this file.
        public var kubeconfigPath: String?
        /// `--context`: use this context instead of `current-context`.
        public var context: String?
        /// `--namespace`: use this namespace instead of the context's.
        public var namespace: String?

        public init(kubeconfigPath: String? = nil, context: String? = nil, namespace: String? = nil) {
            self.kubeconfigPath = kubeconfigPath
            self.context = context
            self.namespace = namespace
        }
    }

    /// A merged kubeconfig and the files it came from, in merge order.
    public struct LoadedKubeconfig: Sendable, Equatable {
        public var config: Kubeconfig
        public var files: [String]

        public init(config: Kubeconfig, files: [String]) {
            self.config = config
            self.files = files
        }
    }

    public var environment: KubeconfigEnvironment

    public init(environment: KubeconfigEnvironment = .live) {
        self.environment = environment
    }

    /// Loads the configuration to use and resolves it into a ``ResolvedCluster``.
    /// - Parameter options: `--kubeconfig`, `--context` and `--namespace` as given by the user.
    /// - Returns: the server, namespace, TLS settings and credentials to use.
    /// - Throws: ``KubeconfigError``; ``KubeconfigError/Code/noConfiguration`` (with
    ///   ``KubeconfigError/sourceFailures``) when no source has a configuration, other codes when the
    ///   chosen source is broken.
    public func load(_ options: Options = Options()) throws -> ResolvedCluster {
        var failures: [KubeconfigError.SourceFailure] = []
        switch try loadKubeconfig(explicitPath: options.kubeconfigPath, failures: &failures) {
        case .some(let loaded):
            return try resolve(loaded, options: options)
        case .none:
            break
        }

        let inClusterLabel = "in-cluster"
        if let context = Kubeconfig.nonEmpty(options.context) {
            // The in-cluster config has no contexts; using it would ignore what the user asked for.
            failures.append(
                .init(source: inClusterLabel, reason: "not used because --context \"\(context)\" names a kubeconfig context"))
        } else {
            switch inClusterConfiguration(namespaceOverride: options.namespace) {
            case .success(let cluster): return cluster
            case .failure(let unavailable): failures.append(.init(source: inClusterLabel, reason: unavailable.reason))
            }
        }
        throw KubeconfigError(
            code: .noConfiguration,
            subject: nil,
            detail: "no Kubernetes configuration found; tried "
                + failures.map(\.description).joined(separator: "; "),
            hint: "pass --kubeconfig PATH, set KUBECONFIG, create ~/.kube/config, or run in a pod with a service account",
            sourceFailures: failures)
    }

    /// Reads and merges the kubeconfig files that the sources select, without resolving a context.
    /// - Returns: `nil` when no kubeconfig source has one (the reasons are appended to `failures`).
    /// - Throws: ``KubeconfigError`` when an explicit file is missing or any existing file is broken.
    public func loadKubeconfig(
        explicitPath: String?,
        failures: inout [KubeconfigError.SourceFailure]
    ) throws -> LoadedKubeconfig? {
        if let explicit = Kubeconfig.nonEmpty(explicitPath) {
            let path = absolutePath(explicit)
            guard let config = try readKubeconfig(at: path) else {
                throw KubeconfigError(
                    code: .fileNotFound, subject: path, detail: "the kubeconfig given with --kubeconfig does not exist",
                    hint: "check the path, or leave out --kubeconfig to use $KUBECONFIG or ~/.kube/config")
            }
            return LoadedKubeconfig(config: config, files: [path])
        }

        let homeLabel = "~/.kube/config"
        if let list = Kubeconfig.nonEmpty(environment.variables["KUBECONFIG"]) {
            let paths = kubeconfigListPaths(list)
            let label = "$KUBECONFIG (\(list))"
            if !paths.isEmpty {
                var found: [(path: String, config: Kubeconfig)] = []
                for path in paths {
                    if let config = try readKubeconfig(at: path) { found.append((path, config)) }
                }
                if found.isEmpty {
                    let reason = paths.count == 1 ? "the file does not exist" : "none of the files exist"
                    failures.append(.init(source: label, reason: reason))
                } else {
                    let merged = Self.merge(found.map(\.config))
                    if !Self.isEmpty(merged) {
                        return LoadedKubeconfig(config: merged, files: found.map(\.path))
                    }
                    failures.append(.init(source: label, reason: "the files define no clusters, users or contexts"))
                }
                // kubectl never reads ~/.kube/config while KUBECONFIG is set; say so rather than skip silently.
                failures.append(.init(source: homeLabel, reason: "not read because $KUBECONFIG is set"))
                return nil
            }
        }

        guard let home = Kubeconfig.nonEmpty(environment.homeDirectory) else {
            failures.append(.init(source: homeLabel, reason: "the home directory is unknown (HOME is not set)"))
            return nil
        }
        let path = Kubeconfig.joinPath(Kubeconfig.joinPath(home, ".kube"), "config")
        guard let config = try readKubeconfig(at: path) else {
            failures.append(.init(source: homeLabel, reason: "\(path) does not exist"))
            return nil
        }
        if Self.isEmpty(config) {
            failures.append(.init(source: homeLabel, reason: "\(path) defines no clusters, users or contexts"))
            return nil
        }
        return LoadedKubeconfig(config: config, files: [path])
    }

    // MARK: - Reading files

    /// Reads one kubeconfig file and makes its relative paths absolute.
    /// - Returns: `nil` when the file does not exist; an empty config for an empty file (as kubectl).
    public func readKubeconfig(at path: String) throws -> Kubeconfig? {
        let data: Data?
        do {
            data = try environment.readFile(path)
        } catch {
            throw KubeconfigError(
                code: .fileUnreadable, subject: path, detail: "the kubeconfig could not be read",
                hint: "check the file's permissions", underlying: error)
        }
        guard let data else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return Kubeconfig(apiVersion: nil, kind: nil)
        }
        let config: Kubeconfig
        do {
            // YAML aliases are expanded by decoding: nine nested levels of ten aliases are a
            // billion nodes. Count what decoding would visit first, and stop at a bound no real
            // kubeconfig comes near.
            if text.contains("*"), let node = try Yams.compose(yaml: text) {
                var budget = Self.maxNodes
                guard Self.fits(node, budget: &budget) else {
                    throw KubeconfigError(
                        code: .invalidKubeconfig, subject: path,
                        detail: "expands to more than \(Self.maxNodes) YAML nodes through its aliases (an alias bomb?)",
                        hint: "write the kubeconfig without YAML anchors and aliases")
                }
            }
            config = try YAMLDecoder().decode(Kubeconfig.self, from: text)
        } catch let error as KubeconfigError {
            throw error
        } catch {
            // Parser messages can quote the offending line, which may be a token: keep only positions and paths.
            throw KubeconfigError(
                code: .invalidKubeconfig, subject: path, detail: "is not a valid kubeconfig: \(Self.safeSummary(of: error))",
                hint: "fix the file (`kubectl config view --kubeconfig \(path)` shows how kubectl reads it)")
        }
        if let kind = config.kind, !kind.isEmpty, kind != "Config" {
            throw KubeconfigError(
                code: .invalidKubeconfig, subject: path, detail: "has kind \"\(kind)\", expected \"Config\"",
                hint: "point --kubeconfig/KUBECONFIG at a kubeconfig file")
        }
        return config.resolvingRelativePaths(against: Kubeconfig.parentDirectory(of: path))
    }

    /// The most YAML nodes a kubeconfig may expand to (a big real one has a few thousand).
    static let maxNodes = 1_000_000

    /// Walks `node` as decoding would (aliases expanded), spending `budget`; false once it runs out.
    static func fits(_ node: Node, budget: inout Int) -> Bool {
        budget -= 1
        guard budget >= 0 else { return false }
        switch node {
        case .scalar, .alias: return true
        case .mapping(let mapping):
            for (key, value) in mapping where !fits(key, budget: &budget) || !fits(value, budget: &budget) { return false }
            return true
        case .sequence(let sequence):
            for item in sequence where !fits(item, budget: &budget) { return false }
            return true
        }
    }

    private func kubeconfigListPaths(_ list: String) -> [String] {
        var seen = Set<String>()
        var paths: [String] = []
        for entry in list.split(separator: ":", omittingEmptySubsequences: true) {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            let path = absolutePath(trimmed)
            if seen.insert(path).inserted { paths.append(path) }
        }
        return paths
    }

    private func absolutePath(_ path: String) -> String {
        Kubeconfig.joinPath(environment.currentDirectory, path)
    }

    // MARK: - Merging

    /// Merges configs the way kubectl merges `$KUBECONFIG`: for clusters, users, contexts and
    /// extensions the first file that defines a name wins; `current-context` and `preferences`
    /// come from the first file that sets them.
    public static func merge(_ configs: [Kubeconfig]) -> Kubeconfig {
        var merged = Kubeconfig()
        for config in configs {
            for entry in config.clusters where !merged.clusters.contains(where: { $0.name == entry.name }) {
                merged.clusters.append(entry)
            }
            for entry in config.users where !merged.users.contains(where: { $0.name == entry.name }) {
                merged.users.append(entry)
            }
            for entry in config.contexts where !merged.contexts.contains(where: { $0.name == entry.name }) {
                merged.contexts.append(entry)
            }
            for entry in config.extensions where !merged.extensions.contains(where: { $0.name == entry.name }) {
                merged.extensions.append(entry)
            }
            if Kubeconfig.nonEmpty(merged.currentContext) == nil, let current = Kubeconfig.nonEmpty(config.currentContext) {
                merged.currentContext = current
            }
            if merged.preferences == nil { merged.preferences = config.preferences }
        }
        return merged
    }

    static func isEmpty(_ config: Kubeconfig) -> Bool {
        config.clusters.isEmpty && config.users.isEmpty && config.contexts.isEmpty
            && Kubeconfig.nonEmpty(config.currentContext) == nil
    }

    // MARK: - Resolving a context

    /// Picks the context (`--context`, else `current-context`) and turns it into a ``ResolvedCluster``,
    /// reading referenced files and refusing unsupported settings.
    public func resolve(_ loaded: LoadedKubeconfig, options: Options = Options()) throws -> ResolvedCluster {
        let config = loaded.config
        let filesLabel = loaded.files.joined(separator: ":")
        let contextNames = config.contexts.map(\.name)
        let available = contextNames.isEmpty ? "it defines no contexts" : "available: " + contextNames.joined(separator: ", ")

        guard let contextName = Kubeconfig.nonEmpty(options.context) ?? Kubeconfig.nonEmpty(config.currentContext) else {
            throw KubeconfigError(
                code: .noCurrentContext, subject: filesLabel, detail: "no context selected: current-context is not set",
                hint: "pass --context NAME (\(available)) or run `kubectl config use-context NAME`")
        }
        guard let context = config.context(named: contextName) else {
            throw KubeconfigError(
                code: .contextNotFound, subject: "context \"\(contextName)\"",
                detail: "is not defined in \(filesLabel)", hint: "pick an existing context (\(available))")
        }
        let clusterSubject = "cluster \"\(context.cluster)\""
        guard !context.cluster.isEmpty, let cluster = config.cluster(named: context.cluster) else {
            throw KubeconfigError(
                code: .clusterNotFound, subject: clusterSubject,
                detail: "context \"\(contextName)\" refers to it but \(filesLabel) does not define it",
                hint: "add the cluster or fix the context's `cluster:` entry")
        }
        let userName = Kubeconfig.nonEmpty(context.user)
        var user = Kubeconfig.AuthInfo()
        if let userName {
            guard let found = config.user(named: userName) else {
                throw KubeconfigError(
                    code: .userNotFound, subject: "user \"\(userName)\"",
                    detail: "context \"\(contextName)\" refers to it but \(filesLabel) does not define it",
                    hint: "add the user or fix the context's `user:` entry")
            }
            user = found
        }

        let server = try ResolvedCluster.validateServerURL(cluster.server, subject: clusterSubject)
        let tlsAndCA = try clusterTLS(cluster, subject: clusterSubject)
        var tls = tlsAndCA.settings
        let userSubject = "user \"\(userName ?? "")\""
        tls.clientCertificate = try clientCertificate(user, subject: userSubject)
        let credentials = try credentialSource(
            user, subject: userSubject, hasClientCertificate: tls.clientCertificate != nil,
            cluster: cluster, caBytes: tlsAndCA.caBytes)

        return ResolvedCluster(
            server: server,
            namespace: Kubeconfig.nonEmpty(options.namespace) ?? Kubeconfig.nonEmpty(context.namespace) ?? "default",
            tls: tls,
            credentials: credentials,
            disableCompression: cluster.disableCompression ?? false,
            origin: .kubeconfig(files: loaded.files, context: contextName, cluster: context.cluster, user: userName))
    }

    private func clusterTLS(
        _ cluster: Kubeconfig.Cluster, subject: String
    ) throws -> (settings: TLSSettings, caBytes: [UInt8]?) {
        if Kubeconfig.nonEmpty(cluster.proxyURL) != nil {
            throw KubeconfigError(
                code: .unsupportedSetting, subject: subject,
                detail: "proxy-url is not supported; reach the API server directly or unset it",
                hint: "remove `proxy-url` from the cluster entry (or use a context without it)")
        }
        var caBytes: [UInt8]?
        var caOrigin: String?
        if let data = Kubeconfig.nonEmpty(cluster.certificateAuthorityData) {
            caOrigin = "certificate-authority-data of \(subject)"
            caBytes = try decodeBase64(data, field: "certificate-authority-data", subject: subject)
        } else if let path = Kubeconfig.nonEmpty(cluster.certificateAuthority) {
            caOrigin = "certificate-authority \(path) of \(subject)"
            caBytes = try readReferencedFile(path, field: "certificate-authority", subject: subject)
        }
        let insecure = cluster.insecureSkipTLSVerify ?? false
        if insecure && caBytes != nil {
            throw KubeconfigError(
                code: .conflictingSettings, subject: subject,
                detail: "insecure-skip-tls-verify cannot be combined with a certificate authority",
                hint: "remove insecure-skip-tls-verify (preferred) or the certificate-authority entry")
        }
        let settings = TLSSettings(
            trustedCertificatesPEM: caBytes, trustedCertificatesOrigin: caOrigin, insecureSkipVerify: insecure,
            serverName: Kubeconfig.nonEmpty(cluster.tlsServerName))
        return (settings, caBytes)
    }

    private func clientCertificate(_ user: Kubeconfig.AuthInfo, subject: String) throws -> ClientCertificate? {
        var certificate: (bytes: [UInt8], origin: String)?
        if let data = Kubeconfig.nonEmpty(user.clientCertificateData) {
            certificate = (
                try decodeBase64(data, field: "client-certificate-data", subject: subject),
                "client-certificate-data of \(subject)"
            )
        } else if let path = Kubeconfig.nonEmpty(user.clientCertificate) {
            certificate = (
                try readReferencedFile(path, field: "client-certificate", subject: subject),
                "client-certificate \(path) of \(subject)"
            )
        }
        var key: (bytes: Secret<[UInt8]>, origin: String)?
        if let data = user.clientKeyData, let text = Kubeconfig.nonEmpty(data.revealed) {
            key = (
                Secret(try decodeBase64(text, field: "client-key-data", subject: subject)),
                "client-key-data of \(subject)"
            )
        } else if let path = Kubeconfig.nonEmpty(user.clientKey) {
            key = (
                Secret(try readReferencedFile(path, field: "client-key", subject: subject)),
                "client-key \(path) of \(subject)"
            )
        }
        switch (certificate, key) {
        case (nil, nil):
            return nil
        case (let certificate?, let key?):
            return ClientCertificate(
                certificateChainPEM: certificate.bytes, privateKeyPEM: key.bytes,
                certificateOrigin: certificate.origin, keyOrigin: key.origin)
        case (.some, nil):
            throw KubeconfigError(
                code: .invalidKubeconfig, subject: subject, detail: "has a client certificate but no client key",
                hint: "add client-key or client-key-data")
        case (nil, .some):
            throw KubeconfigError(
                code: .invalidKubeconfig, subject: subject, detail: "has a client key but no client certificate",
                hint: "add client-certificate or client-certificate-data")
        }
    }

    private func credentialSource(
        _ user: Kubeconfig.AuthInfo, subject: String, hasClientCertificate: Bool,
        cluster: Kubeconfig.Cluster, caBytes: [UInt8]?
    ) throws -> CredentialSource {
        if let provider = user.authProvider {
            throw KubeconfigError(
                code: .unsupportedSetting, subject: subject,
                detail: "auth-provider \"\(provider.name)\" is not supported; the in-tree gcp, azure and oidc providers were removed from Kubernetes clients",
                hint: "use an exec credential plugin instead (gcp: gke-gcloud-auth-plugin, azure: kubelogin, oidc: kubelogin/kubectl oidc-login)")
        }
        if Kubeconfig.nonEmpty(user.username) != nil || user.password.map({ !$0.revealed.isEmpty }) == true {
            throw KubeconfigError(
                code: .unsupportedSetting, subject: subject,
                detail: "username/password (basic) authentication is not supported; it was removed from Kubernetes",
                hint: "use a client certificate, a token, or an exec credential plugin")
        }
        if Kubeconfig.nonEmpty(user.impersonate) != nil || Kubeconfig.nonEmpty(user.impersonateUID) != nil
            || !(user.impersonateGroups ?? []).isEmpty
        {
            throw KubeconfigError(
                code: .unsupportedSetting, subject: subject,
                detail: "impersonation (as, as-uid, as-groups) is not supported; requests would run as the real user instead",
                hint: "use a context whose user is the identity you want to act as")
        }
        let token = user.token.flatMap { $0.revealed.isEmpty ? nil : $0 }
        let tokenFile = Kubeconfig.nonEmpty(user.tokenFile)
        if let exec = user.exec {
            if token != nil || tokenFile != nil {
                throw KubeconfigError(
                    code: .conflictingSettings, subject: subject, detail: "sets both exec and token/tokenFile",
                    hint: "keep only one way to get a bearer token")
            }
            return .exec(try execPlugin(exec, subject: subject, cluster: cluster, caBytes: caBytes))
        }
        if let tokenFile {
            let file = TokenFile(path: tokenFile, readFile: environment.readFile)
            // Read once now so a wrong path fails at load time, not on the first request.
            _ = try file.currentToken()
            return .tokenFile(file)
        }
        if let token { return .bearerToken(token) }
        return hasClientCertificate ? .clientCertificate : .none
    }

    private func execPlugin(
        _ exec: Kubeconfig.ExecConfig, subject: String, cluster: Kubeconfig.Cluster, caBytes: [UInt8]?
    ) throws -> ExecPluginConfiguration {
        guard let command = Kubeconfig.nonEmpty(exec.command) else {
            throw KubeconfigError(
                code: .invalidKubeconfig, subject: subject, detail: "exec.command is empty",
                hint: "set exec.command to the credential plugin's name or path")
        }
        guard let apiVersion = Kubeconfig.nonEmpty(exec.apiVersion) else {
            throw KubeconfigError(
                code: .invalidKubeconfig, subject: subject, detail: "exec.apiVersion is not set",
                hint: "set it to client.authentication.k8s.io/v1 (or v1beta1 if the plugin is older)")
        }
        guard ExecPluginConfiguration.supportedAPIVersions.contains(apiVersion) else {
            throw KubeconfigError(
                code: .unsupportedSetting, subject: subject,
                detail: "exec.apiVersion \"\(apiVersion)\" is not supported (supported: "
                    + ExecPluginConfiguration.supportedAPIVersions.joined(separator: ", ") + ")",
                hint: "update the plugin and set apiVersion to client.authentication.k8s.io/v1")
        }
        switch exec.interactiveMode {
        case nil, "", "Never", "IfAvailable":
            break
        case "Always":
            throw KubeconfigError(
                code: .unsupportedSetting, subject: subject,
                detail: "exec plugin \"\(command)\" needs an interactive terminal (interactiveMode: Always); this tool runs plugins without one",
                hint: "log in with the plugin beforehand so it can answer non-interactively, or set interactiveMode: IfAvailable")
        case let other?:
            throw KubeconfigError(
                code: .invalidKubeconfig, subject: subject,
                detail: "exec.interactiveMode \"\(other)\" is not one of Never, IfAvailable, Always")
        }
        var clusterInfo: ExecClusterInfo?
        if exec.provideClusterInfo {
            clusterInfo = ExecClusterInfo(
                server: cluster.server ?? "",
                tlsServerName: Kubeconfig.nonEmpty(cluster.tlsServerName),
                insecureSkipTLSVerify: cluster.insecureSkipTLSVerify ?? false,
                certificateAuthorityData: caBytes,
                proxyURL: Kubeconfig.nonEmpty(cluster.proxyURL),
                disableCompression: cluster.disableCompression ?? false,
                config: cluster.extensions.first { $0.name == ExecClusterInfo.extensionName }?.extension)
        }
        return ExecPluginConfiguration(
            apiVersion: apiVersion, command: command, args: exec.args, env: exec.env,
            installHint: Kubeconfig.nonEmpty(exec.installHint), clusterInfo: clusterInfo)
    }

    private func decodeBase64(_ text: String, field: String, subject: String) throws -> [UInt8] {
        // Go's decoder skips line breaks, and hand-edited files often wrap long values.
        let compact = text.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: compact) else {
            throw KubeconfigError(
                code: .invalidBase64, subject: subject, detail: "\(field) is not valid base64",
                hint: "it must hold the base64 of the PEM file, e.g. the output of `base64 -w0 FILE`")
        }
        return Array(data)
    }

    private func readReferencedFile(_ path: String, field: String, subject: String) throws -> [UInt8] {
        let data: Data?
        do {
            data = try environment.readFile(path)
        } catch {
            throw KubeconfigError(
                code: .fileUnreadable, subject: subject, detail: "\(field) \(path) could not be read",
                hint: "check the file's permissions", underlying: error)
        }
        guard let data else {
            throw KubeconfigError(
                code: .fileNotFound, subject: subject, detail: "\(field) \(path) does not exist",
                hint: "fix the path (relative paths are relative to the kubeconfig file that names them)")
        }
        return Array(data)
    }

    // MARK: - In-cluster

    /// Builds the in-cluster configuration, or says why it is not available.
    public func inClusterConfiguration(namespaceOverride: String? = nil) -> Result<ResolvedCluster, InClusterUnavailable> {
        let variables = environment.variables
        guard let host = Kubeconfig.nonEmpty(variables["KUBERNETES_SERVICE_HOST"]) else {
            return .failure(InClusterUnavailable("KUBERNETES_SERVICE_HOST is not set"))
        }
        guard let port = Kubeconfig.nonEmpty(variables["KUBERNETES_SERVICE_PORT"]) else {
            return .failure(InClusterUnavailable("KUBERNETES_SERVICE_PORT is not set"))
        }
        let directory = environment.serviceAccountDirectory
        let tokenPath = Kubeconfig.joinPath(directory, "token")
        let caPath = Kubeconfig.joinPath(directory, "ca.crt")
        let token: Data?
        let ca: Data?
        do {
            token = try environment.readFile(tokenPath)
            ca = try environment.readFile(caPath)
        } catch {
            return .failure(InClusterUnavailable("the service account files in \(directory) could not be read"))
        }
        guard token != nil else {
            return .failure(InClusterUnavailable("no service account token at \(tokenPath)"))
        }
        guard let ca else {
            return .failure(InClusterUnavailable("no service account CA certificate at \(caPath)"))
        }
        // IPv6 literals must be bracketed in a URL authority (as Go's net.JoinHostPort does).
        let authorityHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        guard let server = URL(string: "https://\(authorityHost):\(port)"), server.host != nil else {
            return .failure(
                InClusterUnavailable(
                    "KUBERNETES_SERVICE_HOST/PORT (\(host), \(port)) do not form a valid URL"))
        }
        var namespace = Kubeconfig.nonEmpty(namespaceOverride) ?? Kubeconfig.nonEmpty(variables["POD_NAMESPACE"])
        if namespace == nil, let data = try? environment.readFile(Kubeconfig.joinPath(directory, "namespace")) {
            // The namespace file is optional; a missing or unreadable one means "default", as in client-go.
            namespace = Kubeconfig.nonEmpty(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return .success(
            ResolvedCluster(
                server: server,
                namespace: namespace ?? "default",
                tls: TLSSettings(
                    trustedCertificatesPEM: Array(ca), trustedCertificatesOrigin: "service account CA \(caPath)"),
                credentials: .tokenFile(TokenFile(path: tokenPath, readFile: environment.readFile)),
                origin: .inCluster(serviceAccountDirectory: directory)))
    }

    /// Why the in-cluster configuration cannot be used.
    public struct InClusterUnavailable: Error, Sendable, CustomStringConvertible {
        public let reason: String
        public init(_ reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    // MARK: - Error text without secrets

    /// Describes a YAML or decoding error by position and key path only, never by quoting content.
    static func safeSummary(of error: any Error) -> String {
        if let yaml = error as? YamlError {
            switch yaml {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                return "\(problem) at line \(mark.line), column \(mark.column)"
            case .reader(let problem, _, _, _):
                return problem
            case .duplicatedKeysInMapping(_, let context):
                return "duplicate key at line \(context.mark.line), column \(context.mark.column)"
            default:
                return "YAML error"
            }
        }
        if let decoding = error as? DecodingError {
            switch decoding {
            case .typeMismatch(let type, let context):
                return "\(keyPath(context.codingPath)): expected \(typeName(type))"
            case .valueNotFound(let type, let context):
                return "\(keyPath(context.codingPath)): missing \(typeName(type)) value"
            case .keyNotFound(let key, let context):
                return "\(keyPath(context.codingPath + [key])): required key is missing"
            case .dataCorrupted(let context):
                return "\(keyPath(context.codingPath)): invalid value"
            @unknown default:
                return "invalid structure"
            }
        }
        return "unreadable content"
    }

    private static func keyPath(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text.isEmpty ? "top level" : text
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is Double.Type: return "a number"
        default:
            let name = String(describing: type)
            return name.hasPrefix("Array") ? "a list" : (name.hasPrefix("Dictionary") ? "a mapping" : "a mapping or list")
        }
    }
}
