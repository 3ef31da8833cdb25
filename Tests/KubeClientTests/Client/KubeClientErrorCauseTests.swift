import Foundation
import Testing

@testable import KubeClient

/// A wrapped failure keeps the error it stands for, not only its text.
@Suite struct KubeClientErrorCauseTests {
    @Test func anUnreachableServerIsATransportErrorThatKeepsItsCause() async throws {
        try await withConfigTestDirectory { directory in
            // Port 1 on loopback: nothing listens there, so the connection is refused at once.
            let path = try writeConfigTestFile(
                directory, "config",
                kubeconfigYAML(
                    clusters: [("c", "http://127.0.0.1:1")], users: [("u", "t")], contexts: [("x", "c", "u", nil)], currentContext: "x"))
            let cluster = try KubeconfigLoader().load(.init(kubeconfigPath: path))
            let error = await #expect(throws: KubeClientError.self) {
                try await KubeClient.withClient(cluster, retry: RetryPolicy(maxAttempts: 1)) { client in
                    _ = try await client.get(.namespaces, name: "default")
                }
            }
            #expect(error?.code == .transport)
            #expect(error?.cause != nil, "the connection error is kept as the cause")
            #expect(error?.detail.contains("cannot reach") == true)
        }
    }
}
