import CLITestSupport
import Foundation
import Testing

@testable import KubeClient

/// A fresh folder under the system temp directory, removed when the test body returns.
func withConfigTestDirectory<R>(_ body: (String) async throws -> R) async throws -> R {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("kubeconfig-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// Writes `contents` to `directory/name` (creating folders) and returns the full path.
@discardableResult
func writeConfigTestFile(_ directory: String, _ name: String, _ contents: String, executable: Bool = false) throws -> String {
    let path = directory + "/" + name
    let parent = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
    if executable {
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }
    return path
}

/// An environment whose files live in a dictionary: tests never see the real home or /var/run.
func memoryEnvironment(
    files: [String: String],
    variables: [String: String] = [:],
    home: String? = "/home/tester",
    currentDirectory: String = "/work",
    serviceAccountDirectory: String = "/nonexistent/serviceaccount"
) -> KubeconfigEnvironment {
    KubeconfigEnvironment(
        variables: variables,
        homeDirectory: home,
        currentDirectory: currentDirectory,
        serviceAccountDirectory: serviceAccountDirectory,
        readFile: { path in files[path].map { Data($0.utf8) } })
}

/// A kubeconfig with one cluster/user/context per name, for merge tests.
func kubeconfigYAML(
    clusters: [(name: String, server: String)] = [],
    users: [(name: String, token: String)] = [],
    contexts: [(name: String, cluster: String, user: String, namespace: String?)] = [],
    currentContext: String? = nil
) -> String {
    var text = "apiVersion: v1\nkind: Config\nclusters:\n"
    for cluster in clusters {
        text += "- name: \(cluster.name)\n  cluster:\n    server: \(cluster.server)\n"
    }
    text += "users:\n"
    for user in users {
        text += "- name: \(user.name)\n  user:\n    token: \(user.token)\n"
    }
    text += "contexts:\n"
    for context in contexts {
        text += "- name: \(context.name)\n  context:\n    cluster: \(context.cluster)\n    user: \(context.user)\n"
        if let namespace = context.namespace { text += "    namespace: \(namespace)\n" }
    }
    if let currentContext { text += "current-context: \(currentContext)\n" }
    return text
}

extension String {
    var kubeconfigBase64: String { Data(utf8).base64EncodedString() }
}

// MARK: - Certificates

/// A throwaway CA and a client certificate signed by it, made with the openssl CLI once per test run.
struct CertificateFixtures: Sendable {
    var caCertificatePEM: String
    var clientCertificatePEM: String
    var clientKeyPEM: String

    /// Generated on first use; EC P-256 keeps it fast.
    static let shared = Task { try await generate() }

    static func load() async throws -> CertificateFixtures { try await shared.value }

    private static func generate() async throws -> CertificateFixtures {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("kubeconfig-certs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func file(_ name: String) -> String { directory + "/" + name }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        try await openssl(["req", "-x509"] + ec + ["-keyout", file("ca.key"), "-out", file("ca.crt"), "-subj", "/CN=test-ca", "-days", "2"])
        try await openssl(["req"] + ec + ["-keyout", file("client.key"), "-out", file("client.csr"), "-subj", "/CN=admin/O=system:masters"])
        try await openssl([
            "x509", "-req", "-in", file("client.csr"), "-CA", file("ca.crt"), "-CAkey", file("ca.key"),
            "-CAcreateserial", "-out", file("client.crt"), "-days", "2",
        ])
        func read(_ name: String) throws -> String { try String(contentsOfFile: file(name), encoding: .utf8) }
        return CertificateFixtures(
            caCertificatePEM: try read("ca.crt"), clientCertificatePEM: try read("client.crt"),
            clientKeyPEM: try read("client.key"))
    }

    private static func openssl(_ arguments: [String]) async throws {
        try await TestTool.succeed(try TestTool.locate("openssl", hint: "install it with `apt-get install openssl`"), arguments)
    }
}
