import AWS
import CLITestSupport
import Foundation
import Testing

/// `backup verify --secret`: credentials, endpoint and addressing come from a Longhorn backup-target
/// Secret read through the Kubernetes API (the built-in simulated cluster, served by `sim serve`,
/// with the Secret created by the real kubectl).
@Suite("backup verify with a Longhorn Secret")
struct BackupVerifySecretTests {
    /// Runs `longhorn-dr sim serve` until `body` returns, handing it the kubeconfig path.
    func withSimulator<T>(_ body: (String) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ldr-sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let kubeconfig = folder.appendingPathComponent("sim.kubeconfig").path
        let server = try BackgroundTool(try CLIProcess.binary().path, ["sim", "serve", "--port", "0", "--kubeconfig", kubeconfig, "--longhorn", "none"])
        // The kubeconfig is written atomically once the server listens.
        var waited = 0
        while !FileManager.default.fileExists(atPath: kubeconfig), waited < 900 {
            if let status = server.exitStatus { throw TestSetupError("sim serve exited with status \(status)") }
            try await Task.sleep(for: .milliseconds(100))
            waited += 1
        }
        guard FileManager.default.fileExists(atPath: kubeconfig) else {
            server.stop()
            throw TestSetupError("sim serve wrote no kubeconfig in 90 s")
        }
        do {
            let result = try await body(kubeconfig)
            server.stop()
            return result
        } catch {
            server.stop()
            throw error
        }
    }

    /// Runs the real kubectl (installed by scripts/install-tools) against the simulator.
    func kubectl(_ arguments: [String], kubeconfig: String) async throws {
        let kubectl = try TestTool.locate("kubectl", hint: "run scripts/test, which installs it into .tools/venv")
        try await TestTool.succeed(kubectl, ["--kubeconfig", kubeconfig] + arguments)
    }

    @Test("credentials and AWS_ENDPOINTS come from the Secret; the environment has none")
    func verifiesWithSecret() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "secret")
        try await withSimulator { kubeconfig in
            // From a manifest file, so kubectl sends JSON (its typed `create secret` would send protobuf).
            func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
            let manifest: [String: Any] = [
                "apiVersion": "v1", "kind": "List",
                "items": [
                    ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "longhorn-system"]],
                    [
                        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                        "metadata": ["name": "s3-backup-secret", "namespace": "longhorn-system"],
                        "data": [
                            "AWS_ACCESS_KEY_ID": base64(services.accessKey),
                            "AWS_SECRET_ACCESS_KEY": base64(services.secretKey),
                            "AWS_ENDPOINTS": base64(services.s3Endpoint + "\n"),
                        ],
                    ],
                ],
            ]
            let manifestPath = URL(fileURLWithPath: kubeconfig).deletingLastPathComponent().appendingPathComponent("secret.json")
            try JSONSerialization.data(withJSONObject: manifest).write(to: manifestPath)
            // The simulator serves no OpenAPI document for client-side validation.
            try await kubectl(["create", "--validate=false", "-f", manifestPath.path], kubeconfig: kubeconfig)
            let environment = services.cliEnvironment.merging(["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""]) { $1 }
            let result = try await CLIProcess.run(
                [
                    "backup", "verify", "--target", fixture.target, "--volume", fixture.volume, "--file", fixture.sentinelPath,
                    "--secret", "longhorn-system/s3-backup-secret", "--kubeconfig", kubeconfig,
                ],
                environment: environment)
            #expect(result.status == 0, "\(result.all)")
            #expect(result.stdout.contains("Secret longhorn-system/s3-backup-secret"))
            #expect(result.stdout.contains(fixture.sentinelSHA256))
            #expect(!result.all.contains(services.secretKey))

            let missing = try await CLIProcess.run(
                [
                    "backup", "verify", "--target", fixture.target, "--volume", fixture.volume,
                    "--secret", "longhorn-system/no-such-secret", "--kubeconfig", kubeconfig,
                ],
                environment: environment)
            #expect(missing.status == 3, "\(missing.all)")
            #expect(missing.stderr.contains("no-such-secret"))
        }
    }

    @Test("TLS is verified: an unknown CA is refused, the CA given as AWS_CERT is trusted")
    func customCertificateAuthority() async throws {
        // The simulator serves HTTPS with its own CA; it is not S3, but any HTTP answer at all proves
        // the handshake passed, and a refused handshake proves verification is on.
        try await withSimulator { kubeconfig in
            let text = try String(contentsOfFile: kubeconfig, encoding: .utf8)
            func value(_ field: String) -> String? {
                text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                    .first { $0.hasPrefix(field + ": ") }.map { String($0.dropFirst(field.count + 2)) }
            }
            guard let server = value("server"), let caData = value("certificate-authority-data"),
                let pemBytes = Data(base64Encoded: caData)
            else { throw TestSetupError("the simulator's kubeconfig has no server or CA") }
            let pem = String(decoding: pemBytes, as: UTF8.self)
            let addressing = try S3Addressing(region: TestServices.region, customEndpoint: server)
            let credentials = AWSCredentials(accessKeyID: "AKIDTLS", secretAccessKey: "tls-secret")

            let refused = await #expect(throws: AWSError.self) {
                try await AWSHTTPClient.withClient(retry: .none) { http in
                    _ = try await S3Client(http: http, addressing: addressing, credentials: credentials).headBucket("bucket")
                }
            }
            #expect(refused?.code == .endpointUnreachable)
            #expect(refused?.detail.contains("TLS") == true, "\(String(describing: refused))")

            let answered: Int? = try await AWSHTTPClient.withClient(caPEM: pem, retry: .none) { http in
                do {
                    _ = try await S3Client(http: http, addressing: addressing, credentials: credentials).headBucket("bucket")
                    return 200
                } catch {
                    return (error as? AWSError)?.httpStatus
                }
            }
            #expect(answered != nil, "with the CA trusted the server must answer over HTTPS")
        }
    }
}
