import AWS
import Backupstore
import BackupstoreS3
import Foundation
import Testing

/// The local services `scripts/test` starts: SeaweedFS (S3 with SigV4 enforced) and moto (SSM).
///
/// A missing service fails the test with a message saying how to get it; it never skips, because a
/// skipped S3 test would let a broken verifier pass CI.
struct TestServices {
    var s3Endpoint: String
    var accessKey: String
    var secretKey: String
    var ssmEndpoint: String

    static let region = "us-east-1"

    static func load() throws -> TestServices {
        let environment = ProcessInfo.processInfo.environment
        func required(_ name: String) throws -> String {
            guard let value = environment[name], !value.isEmpty else {
                throw TestSetupError(
                    "\(name) is not set: these tests need the SeaweedFS and moto servers that scripts/test starts; "
                        + "run scripts/test (or start them with scripts/lib/test-services.sh and export its variables)")
            }
            return value
        }
        return TestServices(
            s3Endpoint: try required("LONGHORN_DR_TEST_S3_ENDPOINT"),
            accessKey: try required("LONGHORN_DR_TEST_S3_ACCESS_KEY"),
            secretKey: try required("LONGHORN_DR_TEST_S3_SECRET_KEY"),
            ssmEndpoint: try required("LONGHORN_DR_TEST_SSM_ENDPOINT"))
    }

    var credentials: AWSCredentials {
        AWSCredentials(accessKeyID: accessKey, secretAccessKey: secretKey, source: "test")
    }

    /// The environment the CLI gets: the store's keys and nothing from the developer's ~/.aws.
    var cliEnvironment: [String: String] {
        [
            "AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secretKey, "AWS_REGION": Self.region,
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials", "AWS_CONFIG_FILE": "/nonexistent/config",
            "AWS_PROFILE": "", "AWS_SESSION_TOKEN": "", "AWS_ENDPOINTS": "", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_SSM": "",
        ]
    }

    /// Runs `body` with an S3 client for the local store (with `credentials`, default the right ones).
    func withS3<T: Sendable>(
        credentials: AWSCredentials? = nil, endpoint: String? = nil, retry: AWSRetryPolicy = AWSRetryPolicy(),
        _ body: (S3Client) async throws -> T
    ) async throws -> T {
        let addressing = try S3Addressing(region: Self.region, customEndpoint: endpoint ?? s3Endpoint)
        let credentials = credentials ?? self.credentials
        return try await AWSHTTPClient.withClient(retry: retry) { http in
            try await body(S3Client(http: http, addressing: addressing, credentials: credentials))
        }
    }

    /// A fresh bucket name, so tests can run in parallel without seeing each other's objects.
    static func uniqueBucket(_ label: String) -> String {
        "ldr-\(label)-\(UUID().uuidString.prefix(8).lowercased())"
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Port 1 on loopback: nothing listens there, so connections are refused at once.
let unreachableEndpoint = "http://127.0.0.1:1"
