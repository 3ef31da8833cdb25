import CLITestSupport
import Foundation
import Testing

/// Plain http to another machine would carry a decrypted kubeconfig, or store credentials and
/// volume data, in clear text: refused (exit 3) unless the operator says so.
@Suite struct ClearTextEndpointTests {
    static let keys = [
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-for-the-test", "AWS_REGION": "us-east-1",
        "HOME": FileManager.default.temporaryDirectory.path,
    ]

    @Test func anSSMEndpointOverPlainHTTPIsRefusedBeforeAnythingIsSent() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cleartext-\(UUID().uuidString).yaml").path
        let result = try await CLIProcess.run(
            ["kubeconfig", "fetch", "--parameter", "/homelab/x/kubeconfig", "--path", path, "--endpoint", "http://ssm.example.invalid:4566"],
            environment: Self.keys)
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("clear text") && result.stderr.contains("--allow-insecure-endpoint"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func anS3EndpointOverPlainHTTPIsRefusedUnlessAllowed() async throws {
        let refused = try await CLIProcess.run(
            ["backup", "verify", "--target", "s3://bucket@us-east-1/x/", "--volume", "v", "--endpoint", "http://minio.example.invalid:9000"],
            environment: Self.keys)
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(refused.stderr.contains("clear text"), "\(refused.stderr)")
        // Allowed: it goes on (and fails to reach the made-up host: exit 4), with a warning.
        let allowed = try await CLIProcess.run(
            [
                "backup", "verify", "--target", "s3://bucket@us-east-1/x/", "--volume", "v", "--endpoint", "http://minio.example.invalid:9000",
                "--allow-insecure-endpoint",
            ], environment: Self.keys)
        #expect(allowed.status == 4, "\(allowed.stderr)")
        #expect(allowed.stderr.contains("warning: endpoint http://minio.example.invalid is plain http"), "\(allowed.stderr)")
    }
}
