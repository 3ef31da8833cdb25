import AWS
import CLITestSupport
import Foundation
import Testing

/// `longhorn-dr kubeconfig fetch` as a process against moto's SSM (JSON 1.1 protocol).
@Suite("kubeconfig fetch against moto SSM")
struct KubeconfigFetchCLITests {
    static let kubeconfig = """
        apiVersion: v1
        kind: Config
        clusters:
        - name: dev
          cluster:
            server: https://10.0.0.1:6443
            certificate-authority-data: Zm9v
        users:
        - name: admin
          user:
            token: super-secret-token-value
        contexts:
        - name: dev
          context:
            cluster: dev
            user: admin
        current-context: dev

        """

    /// Stores a SecureString in moto with a signed PutParameter call (the CLI itself only reads).
    static func putParameter(_ services: TestServices, name: String, value: String) async throws {
        guard let endpoint = URL(string: services.ssmEndpoint) else { throw TestSetupError("bad SSM endpoint") }
        let body = try JSONSerialization.data(withJSONObject: ["Name": name, "Value": value, "Type": "SecureString", "Overwrite": true])
        let request = try AWSHTTPRequest(
            method: "POST", url: endpoint,
            headers: [.init("Content-Type", "application/x-amz-json-1.1"), .init("X-Amz-Target", "AmazonSSM.PutParameter")],
            body: body)
        let signer = SigV4Signer(credentials: services.credentials, region: TestServices.region, service: "ssm")
        let response = try await AWSHTTPClient.withClient { http in
            try await http.send(request, call: .init(signer: signer, subject: "SSM parameter \(name)", idempotent: true)) { response in
                AWSError.jsonResponse(status: response.status, body: response.body, subject: name)
            }
        }
        guard response.isSuccess else {
            throw TestSetupError("PutParameter \(name) failed: HTTP \(response.status) \(String(decoding: response.body, as: UTF8.self))")
        }
    }

    func fetch(_ services: TestServices, parameter: String, path: String) async throws -> CLIProcess.Result {
        try await CLIProcess.run(
            ["kubeconfig", "fetch", "--parameter", parameter, "--path", path, "--endpoint", services.ssmEndpoint, "--region", TestServices.region],
            environment: services.cliEnvironment)
    }

    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ldr-kubeconfig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test("a kubeconfig parameter is written with mode 0600 and never printed")
    func fetchesKubeconfig() async throws {
        let services = try TestServices.load()
        let name = "/homelab/kubernetes/dev-\(UUID().uuidString.prefix(6))/kubeconfig"
        try await Self.putParameter(services, name: name, value: Self.kubeconfig)
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("kube/dev.yaml").path
        let result = try await fetch(services, parameter: name, path: path)
        #expect(result.status == 0, "\(result.all)")
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(written == Self.kubeconfig)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        #expect(!result.all.contains("super-secret-token-value"))
        #expect(result.stdout.contains("contexts: dev"))
        // No temporary file is left next to it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("kube").path) == ["dev.yaml"])
    }

    @Test("a kubeconfig whose exec plugin would run a program here is refused (exit 3, nothing written) unless allowed by name")
    func refusesExecPlugins() async throws {
        let services = try TestServices.load()
        let name = "/homelab/kubernetes/exec-\(UUID().uuidString.prefix(6))/kubeconfig"
        let hostile = Self.kubeconfig.replacingOccurrences(
            of: "    token: super-secret-token-value\n",
            with: """
                    exec:
                      apiVersion: client.authentication.k8s.io/v1
                      command: /bin/sh
                      args: ["-c", "touch /tmp/pwned-by-ssm"]
                      interactiveMode: Never
                    client-key: /home/operator/.ssh/id_ed25519

                """)
        #expect(hostile.contains("exec:"))
        try await Self.putParameter(services, name: name, value: hostile)
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("dev.yaml").path
        let refused = try await fetch(services, parameter: name, path: path)
        #expect(refused.status == 3, "\(refused.all)")
        #expect(refused.all.contains("exec plugin sh") && refused.all.contains("client-key from a local file"), "\(refused.all)")
        #expect(!FileManager.default.fileExists(atPath: path))
        // Allowing the program by name lets the exec plugin through, not the file reference.
        let stillRefused = try await CLIProcess.run(
            [
                "kubeconfig", "fetch", "--parameter", name, "--path", path, "--endpoint", services.ssmEndpoint, "--region", TestServices.region,
                "--allow-exec", "sh",
            ], environment: services.cliEnvironment)
        #expect(stillRefused.status == 3 && !stillRefused.all.contains("exec plugin sh") && stillRefused.all.contains("client-key"), "\(stillRefused.all)")
    }

    @Test("a parameter that is not a kubeconfig exits 3 and writes nothing")
    func rejectsNonKubeconfig() async throws {
        let services = try TestServices.load()
        let name = "/homelab/kubernetes/not-a-kubeconfig-\(UUID().uuidString.prefix(6))"
        try await Self.putParameter(services, name: name, value: "just some secret text: [unbalanced")
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("dev.yaml").path
        let result = try await fetch(services, parameter: name, path: path)
        #expect(result.status == 3, "\(result.all)")
        #expect(result.stderr.contains("does not hold a kubeconfig"))
        #expect(result.stderr.contains(name))
        #expect(!result.all.contains("just some secret text"))
        #expect(!FileManager.default.fileExists(atPath: path))

        let plainYAML = "/homelab/kubernetes/plain-yaml-\(UUID().uuidString.prefix(6))"
        try await Self.putParameter(services, name: plainYAML, value: "foo: bar\n")
        let second = try await fetch(services, parameter: plainYAML, path: path)
        #expect(second.status == 3, "\(second.all)")
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("a missing parameter says ParameterNotFound")
    func missingParameter() async throws {
        let services = try TestServices.load()
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("dev.yaml").path
        let result = try await fetch(services, parameter: "/homelab/kubernetes/nowhere/kubeconfig", path: path)
        #expect(result.status == 3, "\(result.all)")
        #expect(result.stderr.contains("ParameterNotFound"))
        #expect(result.stderr.contains("/homelab/kubernetes/nowhere/kubeconfig"))
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("an SSM endpoint that is down exits 4")
    func endpointDown() async throws {
        let services = try TestServices.load()
        let result = try await CLIProcess.run(
            [
                "kubeconfig", "fetch", "--parameter", "/x/kubeconfig", "--path", "/tmp/ldr-never-written.yaml",
                "--endpoint", unreachableEndpoint, "--region", TestServices.region,
            ],
            environment: services.cliEnvironment)
        #expect(result.status == 4, "\(result.all)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/ldr-never-written.yaml"))
    }
}
