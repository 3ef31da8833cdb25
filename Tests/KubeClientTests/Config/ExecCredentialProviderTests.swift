import Foundation
import Synchronization
import Testing

@testable import KubeClient

/// A wall clock the test moves by hand.
final class ManualWallClock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date) { current = Mutex(start) }
    var now: Date { current.withLock { $0 } }
    func set(_ date: Date) { current.withLock { $0 = date } }
}

private let execV1 = "client.authentication.k8s.io/v1"
private let execV1beta1 = "client.authentication.k8s.io/v1beta1"

/// Fails the test if any text contains something that looks like one of the test secrets.
private func expectNoSecret(_ error: KubeconfigError?, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let error else { return }
    for text in [error.description, String(reflecting: error), error.detail, error.hint ?? ""] {
        #expect(!text.contains("SECRET"), "leaked: \(text)", sourceLocation: sourceLocation)
    }
}

@Suite("ExecCredentialProvider")
struct ExecCredentialProviderTests {
    let baseEnvironment = ["PATH": "/usr/bin:/bin", "PLUGIN_REGION": "from-parent", "KEEP": "kept"]

    @Test func v1TokenWithExecInfoArgsAndMergedEnvironment() async throws {
        try await withConfigTestDirectory { dir in
            let script = try writeConfigTestFile(
                dir, "v1-plugin",
                """
                #!/bin/sh
                printf '%s' "$KUBERNETES_EXEC_INFO" > "$1"
                printf '%s|%s|%s|%s' "$PLUGIN_REGION" "$KEEP" "$2" "$#" > "$1.env"
                cat <<'JSON'
                {"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"SECRET-execV1-token"}}
                JSON
                """, executable: true)
            let plugin = ExecPluginConfiguration(
                apiVersion: execV1, command: script, args: [dir + "/info.json", "two words"],
                env: [.init(name: "PLUGIN_REGION", value: "eu-west-1")])
            let provider = ExecCredentialProvider(plugin: plugin, environment: baseEnvironment, timeout: .seconds(10))
            let credential = try await provider.credential()
            #expect(credential.token?.revealed == "SECRET-execV1-token")
            #expect(credential.expirationTimestamp == nil)
            #expect(credential.clientCertificate == nil)

            let info = try String(contentsOfFile: dir + "/info.json", encoding: .utf8)
            #expect(info == #"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}"#)
            let env = try String(contentsOfFile: dir + "/info.json.env", encoding: .utf8)
            // Config env wins over the parent's; the rest is inherited; args arrive intact (no shell splitting).
            #expect(env == "eu-west-1|kept|two words|2")
        }
    }

    @Test func v1beta1ClientCertificateWithExpiryAndClusterInfo() async throws {
        try await withConfigTestDirectory { dir in
            let script = try writeConfigTestFile(
                dir, "beta-plugin",
                """
                #!/bin/sh
                printf '%s' "$KUBERNETES_EXEC_INFO" > "$1"
                cat <<'JSON'
                {"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential",
                 "status":{"clientCertificateData":"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n",
                           "clientKeyData":"-----BEGIN PRIVATE KEY-----\\nSECRET\\n-----END PRIVATE KEY-----\\n",
                           "expirationTimestamp":"2030-01-01T00:10:00.250Z"}}
                JSON
                """, executable: true)
            let plugin = ExecPluginConfiguration(
                apiVersion: execV1beta1, command: script, args: [dir + "/info.json"],
                clusterInfo: ExecClusterInfo(
                    server: "https://c:6443", tlsServerName: "api", certificateAuthorityData: Array("CA".utf8),
                    config: .object(["audience": .string("sts")])))
            let provider = ExecCredentialProvider(plugin: plugin, environment: baseEnvironment, timeout: .seconds(10))
            let credential = try await provider.credential()
            #expect(credential.token == nil)
            #expect(credential.clientCertificateData?.hasPrefix("-----BEGIN CERTIFICATE-----\nMIIB") == true)
            #expect(credential.clientCertificate?.privateKeyPEM.revealed.isEmpty == false)
            let expected = try #require(ExecCredential.parseRFC3339("2030-01-01T00:10:00Z"))
            #expect(credential.expirationTimestamp.map { abs($0.timeIntervalSince(expected) - 0.25) < 0.01 } == true)

            let infoData = try Data(contentsOf: URL(fileURLWithPath: dir + "/info.json"))
            let info = try #require(try JSONSerialization.jsonObject(with: infoData) as? [String: Any])
            #expect(info["apiVersion"] as? String == execV1beta1)
            let spec = try #require(info["spec"] as? [String: Any])
            #expect(spec["interactive"] as? Bool == false)
            let cluster = try #require(spec["cluster"] as? [String: Any])
            #expect(cluster["server"] as? String == "https://c:6443")
            #expect(cluster["tls-server-name"] as? String == "api")
            #expect(cluster["certificate-authority-data"] as? String == "CA".kubeconfigBase64)
            #expect((cluster["config"] as? [String: Any])?["audience"] as? String == "sts")
        }
    }

    @Test func failingPluginReportsCommandStderrAndInstallHintButNotStdout() async throws {
        try await withConfigTestDirectory { dir in
            let script = try writeConfigTestFile(
                dir, "failing-plugin",
                """
                #!/bin/sh
                echo '{"status":{"token":"SECRET-in-stdout"}}'
                echo "error: SSO session expired, run: aws sso login" >&2
                exit 1
                """, executable: true)
            let plugin = ExecPluginConfiguration(
                apiVersion: execV1, command: script, installHint: "install the AWS CLI v2: https://aws.amazon.com/cli/")
            let provider = ExecCredentialProvider(plugin: plugin, environment: baseEnvironment, timeout: .seconds(10))
            let error = await #expect(throws: KubeconfigError.self) { try await provider.credential() }
            #expect(error?.code == .execPluginFailed)
            #expect(error?.subject == "exec plugin \"\(script)\"")
            #expect(error?.detail.contains("exited with status 1") == true)
            #expect(error?.detail.contains("SSO session expired, run: aws sso login") == true)
            #expect(error?.hint == "install the AWS CLI v2: https://aws.amazon.com/cli/")
            expectNoSecret(error)
        }
    }

    @Test func garbageOutputIsRejectedWithoutQuotingIt() async throws {
        try await withConfigTestDirectory { dir in
            let garbage = try writeConfigTestFile(dir, "garbage", "#!/bin/sh\necho 'token=SECRET-garbage not json'\n", executable: true)
            let provider = ExecCredentialProvider(
                plugin: .init(apiVersion: execV1, command: garbage), environment: baseEnvironment, timeout: .seconds(10))
            let error = await #expect(throws: KubeconfigError.self) { try await provider.credential() }
            #expect(error?.code == .execPluginInvalidOutput)
            expectNoSecret(error)
        }
    }

    @Test func incompleteStatusesAreRejected() async throws {
        let outputs = [
            #"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}"#,
            #"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"}"#,
            #"{"apiVersion":"client.authentication.k8s.io/v1","kind":"Secret","status":{"token":"SECRET-x"}}"#,
            #"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientKeyData":"SECRET-k"}}"#,
            #"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"SECRET-t","expirationTimestamp":"tomorrow"}}"#,
        ]
        for output in outputs {
            let error = #expect(throws: KubeconfigError.self) {
                try ExecCredential.parse(Data(output.utf8), expectedAPIVersion: execV1, subject: "exec plugin \"p\"", hint: nil)
            }
            #expect(error?.code == .execPluginInvalidOutput, "\(output)")
            expectNoSecret(error)
        }
    }

    @Test func apiVersionMismatchIsAnError() async throws {
        try await withConfigTestDirectory { dir in
            let script = try writeConfigTestFile(
                dir, "beta-answer",
                """
                #!/bin/sh
                echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"SECRET-t"}}'
                """, executable: true)
            let provider = ExecCredentialProvider(
                plugin: .init(apiVersion: execV1, command: script), environment: baseEnvironment, timeout: .seconds(10))
            let error = await #expect(throws: KubeconfigError.self) { try await provider.credential() }
            #expect(error?.code == .execPluginAPIVersionMismatch)
            #expect(error?.detail.contains("\"client.authentication.k8s.io/v1beta1\"") == true)
            expectNoSecret(error)
        }
    }

    @Test func pluginThatHangsIsKilledAtTheTimeout() async throws {
        try await withConfigTestDirectory { dir in
            let pidFile = dir + "/pid"
            let script = try writeConfigTestFile(
                dir, "slow", "#!/bin/sh\necho $$ > \"\(pidFile)\"\necho 'waiting for browser login' >&2\nexec sleep 30\n", executable: true)
            let provider = ExecCredentialProvider(
                plugin: .init(apiVersion: execV1, command: script), environment: baseEnvironment,
                timeout: .seconds(5))  // long enough for the plugin to start and speak on a busy machine
            let error = await #expect(throws: KubeconfigError.self) { try await provider.credential() }
            #expect(error?.code == .execPluginTimedOut)
            #expect(error?.detail.contains("waiting for browser login") == true)
            // The plugin must be gone, not left running: kill(pid, 0) fails for a dead process.
            // (`exec sleep` keeps the pid, so this is the sleeping process itself.)
            let pid = Int32((try String(contentsOfFile: pidFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            #expect(pid > 0)
            var alive = kill(pid, 0) == 0
            for _ in 0..<50 where alive {
                try await Task.sleep(for: .milliseconds(100))
                alive = kill(pid, 0) == 0
            }
            #expect(!alive, "the timed-out plugin (pid \(pid)) is still running")
        }
    }

    @Test func credentialIsCachedUntilExpiryOrInvalidation() async throws {
        try await withConfigTestDirectory { dir in
            let counter = dir + "/runs"
            let script = try writeConfigTestFile(
                dir, "counting",
                """
                #!/bin/sh
                echo run >> "$1"
                runs=$(wc -l < "$1" | tr -d ' ')
                printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"SECRET-%s","expirationTimestamp":"2030-01-01T00:10:00Z"}}\\n' "$runs"
                """, executable: true)
            func runs() throws -> Int {
                try String(contentsOfFile: counter, encoding: .utf8).split(separator: "\n").count
            }
            let start = try #require(ExecCredential.parseRFC3339("2030-01-01T00:00:00Z"))
            let clock = ManualWallClock(start)
            let provider = ExecCredentialProvider(
                plugin: .init(apiVersion: execV1, command: script, args: [counter]), environment: baseEnvironment,
                timeout: .seconds(10), now: { clock.now })

            #expect(try await provider.credential().token?.revealed == "SECRET-1")
            #expect(try await provider.credential().token?.revealed == "SECRET-1")
            clock.set(start.addingTimeInterval(9 * 60 + 59))
            #expect(try await provider.credential().token?.revealed == "SECRET-1")
            #expect(try runs() == 1)

            // A 401 from the API server: the caller invalidates, the next call runs the plugin again.
            await provider.invalidate()
            #expect(try await provider.credential().token?.revealed == "SECRET-2")
            #expect(try runs() == 2)

            // At the expiry time the credential is stale.
            clock.set(start.addingTimeInterval(10 * 60))
            #expect(try await provider.credential().token?.revealed == "SECRET-3")
            #expect(try runs() == 3)

            // Concurrent callers share a single run.
            await provider.invalidate()
            async let a = provider.credential()
            async let b = provider.credential()
            let (first, second) = try await (a, b)
            #expect(first.token == second.token)
            #expect(try runs() == 4)
        }
    }

    @Test func commandIsFoundOnPathOrReportedMissingWithInstallHint() async throws {
        try await withConfigTestDirectory { dir in
            try writeConfigTestFile(
                dir, "bin/kube-login",
                """
                #!/bin/sh
                echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"SECRET-path"}}'
                """, executable: true)
            let environment = ["PATH": "/nonexistent:\(dir)/bin:/usr/bin:/bin"]
            let found = ExecCredentialProvider(
                plugin: .init(apiVersion: execV1, command: "kube-login"), environment: environment, timeout: .seconds(10))
            #expect(try await found.credential().token?.revealed == "SECRET-path")

            let missing = ExecCredentialProvider(
                plugin: .init(apiVersion: execV1, command: "no-such-kube-plugin", installHint: "brew install no-such-kube-plugin"),
                environment: environment, timeout: .seconds(10))
            let error = await #expect(throws: KubeconfigError.self) { try await missing.credential() }
            #expect(error?.code == .execPluginNotFound)
            #expect(error?.description.contains("no-such-kube-plugin\": the credential plugin was not found on PATH") == true)
            #expect(error?.hint == "brew install no-such-kube-plugin")
        }
    }

    @Test func relativeCommandFromKubeconfigRunsFromTheKubeconfigFolder() async throws {
        try await withConfigTestDirectory { dir in
            try writeConfigTestFile(
                dir, "cfg/plugins/token.sh",
                """
                #!/bin/sh
                echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"SECRET-relative"}}'
                """, executable: true)
            try writeConfigTestFile(
                dir, "cfg/config",
                """
                clusters:
                - name: c
                  cluster: {server: "https://c"}
                users:
                - name: u
                  user:
                    exec:
                      apiVersion: client.authentication.k8s.io/v1
                      command: plugins/token.sh
                      interactiveMode: Never
                contexts:
                - name: ctx
                  context: {cluster: c, user: u}
                current-context: ctx
                """)
            let env = KubeconfigEnvironment(
                variables: ["KUBECONFIG": "cfg/config"], homeDirectory: nil, currentDirectory: dir)
            let resolved = try KubeconfigLoader(environment: env).load()
            guard case .exec(let plugin) = resolved.credentials else {
                Issue.record("expected exec credentials, got \(resolved.credentials)")
                return
            }
            #expect(plugin.command == dir + "/cfg/plugins/token.sh")
            // The working directory is elsewhere: only the loader's resolution makes this work.
            let provider = ExecCredentialProvider(
                plugin: plugin, environment: baseEnvironment, currentDirectory: "/", timeout: .seconds(10))
            #expect(try await provider.credential().token?.revealed == "SECRET-relative")
            #expect(!"\(resolved.credentials)".contains("SECRET"))
        }
    }
}

@Suite("RequestAuthenticator")
struct RequestAuthenticatorTests {
    @Test func headersForEachCredentialKind() async throws {
        #expect(try await RequestAuthenticator(credentials: .none).authorizationHeader() == nil)
        #expect(try await RequestAuthenticator(credentials: .clientCertificate).authorizationHeader() == nil)
        let fixed = try await RequestAuthenticator(credentials: .bearerToken(Secret("abc"))).authorizationHeader()
        #expect(fixed?.revealed == "Bearer abc")
        #expect(fixed.map { "\($0)" } == "<redacted>")

        try await withConfigTestDirectory { dir in
            let path = try writeConfigTestFile(dir, "token", "first\n")
            let authenticator = RequestAuthenticator(credentials: .tokenFile(TokenFile(path: path)))
            #expect(try await authenticator.authorizationHeader()?.revealed == "Bearer first")
            try writeConfigTestFile(dir, "token", "second")
            #expect(try await authenticator.authorizationHeader()?.revealed == "Bearer second")
            try FileManager.default.removeItem(atPath: path)
            let error = await #expect(throws: KubeconfigError.self) { try await authenticator.authorizationHeader() }
            #expect(error?.code == .tokenFileUnreadable)
        }
    }

    @Test func unauthorizedReRunsTheExecPlugin() async throws {
        try await withConfigTestDirectory { dir in
            let counter = dir + "/runs"
            let script = try writeConfigTestFile(
                dir, "counting",
                """
                #!/bin/sh
                echo run >> "$1"
                runs=$(wc -l < "$1" | tr -d ' ')
                printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t%s"}}' "$runs"
                """, executable: true)
            let authenticator = RequestAuthenticator(
                credentials: .exec(.init(apiVersion: "client.authentication.k8s.io/v1", command: script, args: [counter])),
                environment: ["PATH": "/usr/bin:/bin"], execTimeout: .seconds(10))
            #expect(try await authenticator.authorizationHeader()?.revealed == "Bearer t1")
            #expect(try await authenticator.authorizationHeader()?.revealed == "Bearer t1")
            #expect(try await authenticator.execClientCertificate() == nil)
            await authenticator.requestWasUnauthorized()
            #expect(try await authenticator.authorizationHeader()?.revealed == "Bearer t2")
        }
    }
}
