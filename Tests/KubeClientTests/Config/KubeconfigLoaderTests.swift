import Foundation
import NIOSSL
import Testing

@testable import KubeClient

@Suite("KubeconfigLoader: sources and KUBECONFIG merging")
struct KubeconfigLoaderTests {
    let first = kubeconfigYAML(
        clusters: [("shared", "https://first.example:6443"), ("only-first", "https://one.example")],
        users: [("shared", "first-token"), ("u1", "u1-token")],
        contexts: [("shared", "shared", "shared", "first-ns"), ("ctx-one", "only-first", "u1", nil)],
        currentContext: nil)
    let second = kubeconfigYAML(
        clusters: [("shared", "https://second.example:6443"), ("only-second", "https://two.example")],
        users: [("shared", "second-token")],
        contexts: [("shared", "shared", "shared", "second-ns"), ("ctx-two", "only-second", "shared", "two")],
        currentContext: "shared")
    let third = kubeconfigYAML(currentContext: "ctx-one")

    @Test func firstFileThatDefinesANameWins() throws {
        let env = memoryEnvironment(
            files: ["/cfg/a.yaml": first, "/cfg/b.yaml": second],
            variables: ["KUBECONFIG": "/cfg/a.yaml:/cfg/b.yaml"])
        var failures: [KubeconfigError.SourceFailure] = []
        let loaded = try #require(try KubeconfigLoader(environment: env).loadKubeconfig(explicitPath: nil, failures: &failures))
        #expect(loaded.files == ["/cfg/a.yaml", "/cfg/b.yaml"])
        #expect(loaded.config.cluster(named: "shared")?.server == "https://first.example:6443")
        #expect(loaded.config.user(named: "shared")?.token?.revealed == "first-token")
        #expect(loaded.config.context(named: "shared")?.namespace == "first-ns")
        // Names defined by only one file come through from either.
        #expect(loaded.config.cluster(named: "only-first") != nil)
        #expect(loaded.config.cluster(named: "only-second") != nil)
        #expect(loaded.config.contexts.map(\.name) == ["shared", "ctx-one", "ctx-two"])
    }

    @Test func currentContextComesFromTheFirstFileThatSetsIt() throws {
        // a.yaml sets none, b.yaml sets "shared", c.yaml sets "ctx-one": b wins.
        let env = memoryEnvironment(
            files: ["/cfg/a.yaml": first, "/cfg/b.yaml": second, "/cfg/c.yaml": third],
            variables: ["KUBECONFIG": "/cfg/a.yaml:/cfg/b.yaml:/cfg/c.yaml"])
        let resolved = try KubeconfigLoader(environment: env).load()
        #expect(
            resolved.origin
                == .kubeconfig(
                    files: ["/cfg/a.yaml", "/cfg/b.yaml", "/cfg/c.yaml"], context: "shared", cluster: "shared", user: "shared"))
        // The "shared" context itself comes from a.yaml (first definition), so its namespace is first-ns.
        #expect(resolved.namespace == "first-ns")
        #expect(resolved.server.absoluteString == "https://first.example:6443")
        guard case .bearerToken(let token) = resolved.credentials else {
            Issue.record("expected a bearer token, got \(resolved.credentials)")
            return
        }
        #expect(token.revealed == "first-token")

        let reordered = memoryEnvironment(
            files: ["/cfg/a.yaml": first, "/cfg/b.yaml": second, "/cfg/c.yaml": third],
            variables: ["KUBECONFIG": "/cfg/c.yaml:/cfg/b.yaml:/cfg/a.yaml"])
        let other = try KubeconfigLoader(environment: reordered).load()
        guard case .kubeconfig(_, let context, _, _) = other.origin else {
            Issue.record("expected kubeconfig origin")
            return
        }
        #expect(context == "ctx-one")
    }

    @Test func missingFilesInTheListAreSkippedAndRelativeEntriesUseTheWorkingDirectory() throws {
        let env = memoryEnvironment(
            files: ["/work/conf/b.yaml": second],
            variables: ["KUBECONFIG": "missing.yaml::conf/b.yaml:/nowhere/x.yaml:conf/b.yaml"],
            currentDirectory: "/work")
        var failures: [KubeconfigError.SourceFailure] = []
        let loaded = try #require(try KubeconfigLoader(environment: env).loadKubeconfig(explicitPath: nil, failures: &failures))
        #expect(loaded.files == ["/work/conf/b.yaml"])
        #expect(failures.isEmpty)
    }

    @Test func allMissingListIsAnErrorThatNamesEverySource() throws {
        let env = memoryEnvironment(
            files: ["/home/tester/.kube/config": second],
            variables: ["KUBECONFIG": "a.yaml:b.yaml"])
        let error = #expect(throws: KubeconfigError.self) { try KubeconfigLoader(environment: env).load() }
        #expect(error?.code == .noConfiguration)
        #expect(error?.sourceFailures.map(\.source) == ["$KUBECONFIG (a.yaml:b.yaml)", "~/.kube/config", "in-cluster"])
        let text = error.map(String.init(describing:)) ?? ""
        #expect(text.contains("$KUBECONFIG (a.yaml:b.yaml): none of the files exist"))
        // kubectl ignores ~/.kube/config while KUBECONFIG is set, even though one exists here.
        #expect(text.contains("~/.kube/config: not read because $KUBECONFIG is set"))
        #expect(text.contains("in-cluster: KUBERNETES_SERVICE_HOST is not set"))
        #expect(text.contains("hint:"))
    }

    @Test func everySourceFailingGivesOneErrorWithEachReason() throws {
        let env = memoryEnvironment(files: [:], variables: ["KUBERNETES_SERVICE_HOST": "10.0.0.1"], home: "/home/tester")
        let error = #expect(throws: KubeconfigError.self) { try KubeconfigLoader(environment: env).load() }
        #expect(error?.code == .noConfiguration)
        #expect(
            error?.sourceFailures == [
                .init(source: "~/.kube/config", reason: "/home/tester/.kube/config does not exist"),
                .init(source: "in-cluster", reason: "KUBERNETES_SERVICE_PORT is not set"),
            ])
        #expect(
            error?.detail
                == "no Kubernetes configuration found; tried ~/.kube/config: /home/tester/.kube/config does not exist; in-cluster: KUBERNETES_SERVICE_PORT is not set"
        )

        let noHome = memoryEnvironment(files: [:], home: nil)
        let second = #expect(throws: KubeconfigError.self) { try KubeconfigLoader(environment: noHome).load() }
        #expect(second?.sourceFailures.first?.reason == "the home directory is unknown (HOME is not set)")
    }

    @Test func homeConfigIsUsedWhenKubeconfigIsUnset() throws {
        let env = memoryEnvironment(files: ["/home/tester/.kube/config": second])
        let resolved = try KubeconfigLoader(environment: env).load()
        #expect(resolved.server.absoluteString == "https://second.example:6443")
        #expect(resolved.namespace == "second-ns")
    }

    @Test func explicitPathWinsAndMustExist() throws {
        let env = memoryEnvironment(
            files: ["/cfg/a.yaml": first, "/cfg/b.yaml": second, "/home/tester/.kube/config": second],
            variables: ["KUBECONFIG": "/cfg/b.yaml"])
        let loader = KubeconfigLoader(environment: env)
        let resolved = try loader.load(.init(kubeconfigPath: "/cfg/a.yaml", context: "ctx-one"))
        #expect(resolved.server.absoluteString == "https://one.example")
        #expect(resolved.namespace == "default")

        let error = #expect(throws: KubeconfigError.self) {
            try loader.load(.init(kubeconfigPath: "/cfg/missing.yaml"))
        }
        #expect(error?.code == .fileNotFound)
        #expect(error?.subject == "/cfg/missing.yaml")
    }

    @Test func contextAndNamespaceOverrides() throws {
        let env = memoryEnvironment(files: ["/home/tester/.kube/config": second])
        let loader = KubeconfigLoader(environment: env)
        let byContext = try loader.load(.init(context: "ctx-two"))
        #expect(byContext.server.absoluteString == "https://two.example")
        #expect(byContext.namespace == "two")
        let byNamespace = try loader.load(.init(context: "ctx-two", namespace: "override"))
        #expect(byNamespace.namespace == "override")

        let error = #expect(throws: KubeconfigError.self) { try loader.load(.init(context: "nope")) }
        #expect(error?.code == .contextNotFound)
        #expect(error.map(String.init(describing:))?.contains("available: shared, ctx-two") == true)
    }

    @Test func noCurrentContextSaysHowToPickOne() throws {
        let env = memoryEnvironment(files: ["/home/tester/.kube/config": first])
        let error = #expect(throws: KubeconfigError.self) { try KubeconfigLoader(environment: env).load() }
        #expect(error?.code == .noCurrentContext)
        #expect(error?.hint?.contains("--context") == true)
    }

    @Test func danglingReferencesAreReported() throws {
        let file = """
            clusters:
            - name: real
              cluster: {server: "https://real"}
            contexts:
            - name: a
              context: {cluster: ghost, user: nobody}
            - name: b
              context: {cluster: real, user: nobody}
            current-context: a
            """
        let loader = KubeconfigLoader(environment: memoryEnvironment(files: ["/home/tester/.kube/config": file]))
        let missingCluster = #expect(throws: KubeconfigError.self) { try loader.load() }
        #expect(missingCluster?.code == .clusterNotFound)
        let missingUser = #expect(throws: KubeconfigError.self) { try loader.load(.init(context: "b")) }
        #expect(missingUser?.code == .userNotFound)
        #expect(missingUser?.subject == "user \"nobody\"")
    }

    @Test func relativePathsResolveAgainstTheirOwnFile() throws {
        let file = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: c
              cluster:
                server: https://c.example
                certificate-authority: certs/ca.crt
            users:
            - name: u
              user:
                client-certificate: certs/client.crt
                client-key: /abs/client.key
                tokenFile: ../tokens/t
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: ./bin/plugin
            - name: v
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: aws
            contexts:
            - name: ctx
              context: {cluster: c, user: u}
            """
        let env = memoryEnvironment(files: ["/etc/kube/site/config.yaml": file])
        let config = try #require(try KubeconfigLoader(environment: env).readKubeconfig(at: "/etc/kube/site/config.yaml"))
        #expect(config.cluster(named: "c")?.certificateAuthority == "/etc/kube/site/certs/ca.crt")
        let user = try #require(config.user(named: "u"))
        #expect(user.clientCertificate == "/etc/kube/site/certs/client.crt")
        #expect(user.clientKey == "/abs/client.key")
        #expect(user.tokenFile == "/etc/kube/site/../tokens/t")
        #expect(user.exec?.command == "/etc/kube/site/./bin/plugin")
        // A bare command name stays as is: it is looked up on PATH.
        #expect(config.user(named: "v")?.exec?.command == "aws")
    }

    @Test func relativeCertificateFilesAreReadFromTheKubeconfigFolder() async throws {
        let fixtures = try await CertificateFixtures.load()
        let file = """
            clusters:
            - name: c
              cluster: {server: "https://10.1.2.3:6443", certificate-authority: ca.crt, tls-server-name: kubernetes}
            users:
            - name: u
              user: {client-certificate: client.crt, client-key: keys/client.key}
            contexts:
            - name: ctx
              context: {cluster: c, user: u, namespace: apps}
            current-context: ctx
            """
        let env = memoryEnvironment(
            files: [
                "/cfg/kubeconfig": file, "/cfg/ca.crt": fixtures.caCertificatePEM,
                "/cfg/client.crt": fixtures.clientCertificatePEM, "/cfg/keys/client.key": fixtures.clientKeyPEM,
            ],
            variables: ["KUBECONFIG": "/cfg/kubeconfig"])
        let resolved = try KubeconfigLoader(environment: env).load()
        #expect(resolved.tls.trustedCertificatesPEM == Array(fixtures.caCertificatePEM.utf8))
        #expect(resolved.tls.serverName == "kubernetes")
        #expect(resolved.tls.clientCertificate?.certificateChainPEM == Array(fixtures.clientCertificatePEM.utf8))
        #expect(resolved.tls.clientCertificate?.privateKeyPEM.revealed == Array(fixtures.clientKeyPEM.utf8))
        guard case .clientCertificate = resolved.credentials else {
            Issue.record("expected client certificate credentials, got \(resolved.credentials)")
            return
        }
        _ = try resolved.tls.makeTLSConfiguration()
    }

    @Test func missingReferencedFileNamesFieldAndPath() throws {
        let file = """
            clusters:
            - name: c
              cluster: {server: "https://c", certificate-authority: nope/ca.crt}
            contexts:
            - name: ctx
              context: {cluster: c}
            current-context: ctx
            """
        let env = memoryEnvironment(files: ["/cfg/config": file], variables: ["KUBECONFIG": "/cfg/config"])
        let error = #expect(throws: KubeconfigError.self) { try KubeconfigLoader(environment: env).load() }
        #expect(error?.code == .fileNotFound)
        #expect(error?.detail == "certificate-authority /cfg/nope/ca.crt does not exist")
    }

    @Test func emptyFileAndNullListsAreAccepted() throws {
        let env = memoryEnvironment(files: ["/a": "", "/b": "clusters: null\nusers:\ncontexts: ~\n"])
        let loader = KubeconfigLoader(environment: env)
        #expect(try loader.readKubeconfig(at: "/a") == Kubeconfig(apiVersion: nil, kind: nil))
        #expect(try loader.readKubeconfig(at: "/b")?.clusters.isEmpty == true)
        // An empty home config counts as "nothing here" and loading moves on to in-cluster.
        let emptyHome = memoryEnvironment(files: ["/home/tester/.kube/config": "\n"])
        let error = #expect(throws: KubeconfigError.self) { try KubeconfigLoader(environment: emptyHome).load() }
        #expect(error?.sourceFailures.first?.reason.contains("defines no clusters") == true)
    }

    @Test func invalidYAMLDoesNotEchoFileContent() throws {
        let env = memoryEnvironment(files: [
            "/bad1": "users:\n- name: u\n  user:\n    token: \"SECRET-abc123\n",
            "/bad2": "users:\n- name: u\n  user:\n    token: [SECRET-abc123]\n",
            "/bad3": "kind: Pod\n",
        ])
        let loader = KubeconfigLoader(environment: env)
        for path in ["/bad1", "/bad2"] {
            let error = #expect(throws: KubeconfigError.self) { try loader.readKubeconfig(at: path) }
            #expect(error?.code == .invalidKubeconfig)
            let text = error.map(String.init(describing:)) ?? ""
            #expect(!text.contains("SECRET"), "\(text)")
            #expect(text.contains(path))
        }
        let typed = #expect(throws: KubeconfigError.self) { try loader.readKubeconfig(at: "/bad2") }
        #expect(typed?.detail.contains("users[0].user.token") == true)
        let kind = #expect(throws: KubeconfigError.self) { try loader.readKubeconfig(at: "/bad3") }
        #expect(kind?.detail.contains("kind \"Pod\"") == true)
    }
}

@Suite("KubeconfigLoader: in-cluster service account")
struct InClusterConfigTests {
    @Test func buildsFromServiceAccountFolder() async throws {
        let fixtures = try await CertificateFixtures.load()
        try await withConfigTestDirectory { directory in
            try writeConfigTestFile(directory, "token", "sa-token-1\n")
            try writeConfigTestFile(directory, "ca.crt", fixtures.caCertificatePEM)
            try writeConfigTestFile(directory, "namespace", "longhorn-system\n")
            let env = KubeconfigEnvironment(
                variables: ["KUBERNETES_SERVICE_HOST": "10.43.0.1", "KUBERNETES_SERVICE_PORT": "443"],
                homeDirectory: directory + "/nohome", currentDirectory: directory,
                serviceAccountDirectory: directory)
            let resolved = try KubeconfigLoader(environment: env).load()
            #expect(resolved.server.absoluteString == "https://10.43.0.1:443")
            #expect(resolved.namespace == "longhorn-system")
            #expect(resolved.origin == .inCluster(serviceAccountDirectory: directory))
            #expect(resolved.tls.trustedCertificatesPEM == Array(fixtures.caCertificatePEM.utf8))
            _ = try resolved.tls.makeTLSConfiguration()

            guard case .tokenFile(let file) = resolved.credentials else {
                Issue.record("expected a token file, got \(resolved.credentials)")
                return
            }
            #expect(try file.currentToken().revealed == "sa-token-1")
            // Rotation: the kubelet rewrites the file; the next use sees the new token.
            try writeConfigTestFile(directory, "token", "sa-token-2")
            #expect(try file.currentToken().revealed == "sa-token-2")

            let overridden = try KubeconfigLoader(environment: env).load(.init(namespace: "other"))
            #expect(overridden.namespace == "other")
        }
    }

    @Test func ipv6HostIsBracketedAndNamespaceDefaults() async throws {
        try await withConfigTestDirectory { directory in
            try writeConfigTestFile(directory, "token", "t")
            try writeConfigTestFile(directory, "ca.crt", "unused")
            let env = KubeconfigEnvironment(
                variables: ["KUBERNETES_SERVICE_HOST": "fd00:10:96::1", "KUBERNETES_SERVICE_PORT": "6443"],
                homeDirectory: nil, currentDirectory: directory, serviceAccountDirectory: directory)
            let resolved = try KubeconfigLoader(environment: env).load()
            #expect(resolved.server.absoluteString == "https://[fd00:10:96::1]:6443")
            #expect(resolved.server.port == 6443)
            #expect(resolved.namespace == "default")
        }
    }

    @Test func missingTokenIsAReasonAndContextOverrideSkipsInCluster() async throws {
        try await withConfigTestDirectory { directory in
            let env = KubeconfigEnvironment(
                variables: ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"],
                homeDirectory: directory, currentDirectory: directory, serviceAccountDirectory: directory)
            let loader = KubeconfigLoader(environment: env)
            let error = #expect(throws: KubeconfigError.self) { try loader.load() }
            #expect(error?.sourceFailures.last?.reason == "no service account token at \(directory)/token")

            try writeConfigTestFile(directory, "token", "t")
            try writeConfigTestFile(directory, "ca.crt", "ca")
            let withContext = #expect(throws: KubeconfigError.self) { try loader.load(.init(context: "prod")) }
            #expect(withContext?.sourceFailures.last?.reason.contains("--context \"prod\"") == true)
        }
    }
}

@Suite("KubeconfigLoader: refused settings")
struct RefusedSettingsTests {
    func load(cluster: String = "server: https://c", user: String) throws -> ResolvedCluster {
        let file = """
            clusters:
            - name: c
              cluster:
                \(cluster)
            users:
            - name: u
              user:
                \(user)
            contexts:
            - name: ctx
              context: {cluster: c, user: u}
            current-context: ctx
            """
        return try KubeconfigLoader(environment: memoryEnvironment(files: ["/home/tester/.kube/config": file])).load()
    }

    @Test func proxyURLIsRefused() throws {
        let error = #expect(throws: KubeconfigError.self) {
            try load(cluster: "server: https://c\n    proxy-url: http://proxy:3128", user: "token: abc")
        }
        #expect(error?.code == .unsupportedSetting)
        #expect(error?.detail == "proxy-url is not supported; reach the API server directly or unset it")
    }

    @Test func authProviderIsRefusedWithExecAdvice() throws {
        let error = #expect(throws: KubeconfigError.self) {
            try load(user: "auth-provider:\n      name: gcp\n      config: {access-token: SECRET-gcp}")
        }
        #expect(error?.code == .unsupportedSetting)
        let text = error.map(String.init(describing:)) ?? ""
        #expect(text.contains("auth-provider \"gcp\" is not supported"))
        #expect(text.contains("exec credential plugin"))
        #expect(!text.contains("SECRET"))
    }

    @Test func basicAuthIsRefused() throws {
        let error = #expect(throws: KubeconfigError.self) {
            try load(user: "username: admin\n    password: SECRET-pw")
        }
        #expect(error?.code == .unsupportedSetting)
        let text = error.map(String.init(describing:)) ?? ""
        #expect(text.contains("username/password (basic) authentication is not supported"))
        #expect(!text.contains("SECRET"))
    }

    @Test func insecureWithCAIsAConflict() throws {
        let error = #expect(throws: KubeconfigError.self) {
            try load(
                cluster: "server: https://c\n    insecure-skip-tls-verify: true\n    certificate-authority-data: \("x".kubeconfigBase64)", user: "token: t")
        }
        #expect(error?.code == .conflictingSettings)
    }

    @Test func insecureAloneAndPlainHTTPAreAccepted() throws {
        let insecure = try load(cluster: "server: https://c\n    insecure-skip-tls-verify: true", user: "token: t")
        #expect(insecure.tls.insecureSkipVerify)
        let tls = try insecure.tls.makeTLSConfiguration()
        #expect(tls.certificateVerification == .none)
        let plain = try load(cluster: "server: http://127.0.0.1:8080", user: "token: t")
        #expect(plain.server.scheme == "http")
    }

    @Test func badServerURLs() throws {
        for server in ["ftp://c", "not a url", "https://"] {
            let error = #expect(throws: KubeconfigError.self) { try load(cluster: "server: \"\(server)\"", user: "token: t") }
            #expect(error?.code == .invalidServerURL, "\(server)")
        }
    }

    @Test func execSettingsAreValidated() throws {
        let alpha = #expect(throws: KubeconfigError.self) {
            try load(user: "exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}")
        }
        #expect(alpha?.code == .unsupportedSetting)
        let interactive = #expect(throws: KubeconfigError.self) {
            try load(user: "exec: {apiVersion: client.authentication.k8s.io/v1, command: x, interactiveMode: Always}")
        }
        #expect(interactive?.code == .unsupportedSetting)
        let both = #expect(throws: KubeconfigError.self) {
            try load(user: "token: t\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: x}")
        }
        #expect(both?.code == .conflictingSettings)
    }

    @Test func execWithClusterInfoCarriesClusterDetails() throws {
        let resolved = try load(
            cluster: """
                server: https://c:6443
                    tls-server-name: api.internal
                    certificate-authority-data: \("CA-PEM".kubeconfigBase64)
                    extensions:
                    - name: client.authentication.k8s.io/exec
                      extension: {audience: sts}
                """,
            user: """
                exec:
                      apiVersion: client.authentication.k8s.io/v1beta1
                      command: my-plugin
                      args: [get-token, --cluster, c]
                      env: [{name: REGION, value: eu-west-1}]
                      provideClusterInfo: true
                      installHint: brew install my-plugin
                """)
        guard case .exec(let plugin) = resolved.credentials else {
            Issue.record("expected exec credentials, got \(resolved.credentials)")
            return
        }
        #expect(plugin.command == "my-plugin")
        #expect(plugin.args == ["get-token", "--cluster", "c"])
        #expect(plugin.env.first?.value.revealed == "eu-west-1")
        #expect(plugin.installHint == "brew install my-plugin")
        let info = try #require(plugin.clusterInfo)
        #expect(info.server == "https://c:6443")
        #expect(info.tlsServerName == "api.internal")
        #expect(info.certificateAuthorityData == Array("CA-PEM".utf8))
        #expect(info.config == .object(["audience": .string("sts")]))
    }
}

extension RefusedSettingsTests {
    @Test func impersonationIsRefusedRatherThanIgnored() throws {
        let error = #expect(throws: KubeconfigError.self) {
            try load(user: "token: t\n    as: system:admin\n    as-groups: [system:masters]")
        }
        #expect(error?.code == .unsupportedSetting)
        #expect(error?.detail.contains("impersonation") == true)
    }
}

/// A kubeconfig from an SSM parameter is input from whoever can write it: an alias bomb must be
/// refused before decoding expands it.
@Suite struct KubeconfigAliasBombTests {
    static func bomb(levels: Int) -> String {
        var lines = ["apiVersion: v1", "kind: Config", "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for level in 1...levels {
            let previous = "*a\(level - 1)"
            lines.append("x\(level): &a\(level) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]")
        }
        lines += [
            "clusters: [{name: c, cluster: {server: \"https://10.0.0.1:6443\", extensions: [{name: e, extension: *a\(levels)}]}}]",
            "users: [{name: u, user: {token: t}}]", "contexts: [{name: x, context: {cluster: c, user: u}}]", "current-context: x",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func aBillionLaughsKubeconfigIsRefused() throws {
        let env = memoryEnvironment(files: ["/fetched": Self.bomb(levels: 9)])
        do {
            _ = try KubeconfigLoader(environment: env).readKubeconfig(at: "/fetched")
            Issue.record("a kubeconfig expanding to 10^10 nodes was accepted")
        } catch let error as KubeconfigError {
            #expect(error.code == .invalidKubeconfig)
            #expect(error.detail.contains("aliases"), "\(error)")
        }
    }

    @Test func aFewAliasesAreFine() throws {
        let env = memoryEnvironment(files: ["/small": Self.bomb(levels: 2)])
        let config = try #require(try KubeconfigLoader(environment: env).readKubeconfig(at: "/small"))
        #expect(config.clusters.first?.name == "c")
    }
}
