import Foundation
import KubeClient
import KubeModels
import Simulator
import SimulatorTestSupport
import Testing

@Suite(.serialized) struct KubeClientAuthTests {
    @Test func clientCertificateOverTLS() async throws {
        try await SimulatorHarness.withClient(user: "admin") { client, _, _ in
            let namespaces = try await client.list(.namespaces)
            #expect(namespaces.items.contains { $0[path: ["metadata", "name"]] == "default" })
        }
    }

    @Test func bearerTokenOverTLS() async throws {
        try await SimulatorHarness.withClient(user: "token") { client, _, _ in
            let fetched = try await client.get(.namespaces, name: "default")
            #expect(fetched[path: ["status", "phase"]] == "Active")
        }
    }

    @Test func wrongTokenIsUnauthorizedWithoutLeakingIt() async throws {
        try await SimulatorHarness.withServer { endpoint, _ in
            var wrong = endpoint
            wrong.token = "not-the-token-0123456789"
            let client = try SimulatorHarness.client(wrong, user: "token")
            let error = await expectKubeError { _ = try await client.list(.namespaces) }
            try await client.shutdown()
            #expect(error?.code == .unauthorized)
            #expect(error?.description.contains("not-the-token") == false)
            #expect(error?.hint != nil)
        }
    }

    @Test func execPluginToken() async throws {
        try await SimulatorHarness.withServer { endpoint, _ in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-exec-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let plugin = folder.appendingPathComponent("plugin.sh")
            try Data(
                """
                #!/bin/sh
                echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"\(endpoint.token)"}}'
                """.utf8
            ).write(to: plugin)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: plugin.path)
            let ca = Data(endpoint.authority?.ca.certificatePEM.utf8 ?? "".utf8).base64EncodedString()
            let kubeconfig = """
                apiVersion: v1
                kind: Config
                clusters:
                - name: sim
                  cluster: {server: "\(endpoint.url)", certificate-authority-data: \(ca)}
                users:
                - name: plugin
                  user:
                    exec: {apiVersion: client.authentication.k8s.io/v1, command: \(plugin.path), interactiveMode: Never}
                contexts:
                - name: sim
                  context: {cluster: sim, user: plugin}
                current-context: sim
                """
            let path = folder.appendingPathComponent("config").path
            try Data(kubeconfig.utf8).write(to: URL(fileURLWithPath: path))
            let cluster = try KubeconfigLoader().load(.init(kubeconfigPath: path))
            try await KubeClient.withClient(cluster) { client in
                let fetched = try await client.get(.namespaces, name: "kube-system")
                #expect(fetched[path: ["metadata", "name"]] == "kube-system")
            }
        }
    }

    @Test func inClusterServiceAccount() async throws {
        try await SimulatorHarness.withServer { endpoint, _ in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-sa-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(endpoint.token.utf8).write(to: folder.appendingPathComponent("token"))
            try Data((endpoint.authority?.ca.certificatePEM ?? "").utf8).write(to: folder.appendingPathComponent("ca.crt"))
            try Data("longhorn-system".utf8).write(to: folder.appendingPathComponent("namespace"))
            let port = endpoint.url.split(separator: ":").last.map(String.init) ?? ""
            var environment = KubeconfigEnvironment.live
            environment.variables = ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": port]
            environment.homeDirectory = folder.appendingPathComponent("no-home").path
            environment.serviceAccountDirectory = folder.path
            let cluster = try KubeconfigLoader(environment: environment).load()
            #expect(cluster.namespace == "longhorn-system")
            try await KubeClient.withClient(cluster) { client in
                let fetched = try await client.list(.namespaces)
                #expect(fetched.items.count >= 4)
            }
        }
    }
}

@Suite(.serialized) struct KubeClientVerbTests {
    @Test func crudAndTypedErrors() async throws {
        try await SimulatorHarness.withClient { client, _, _ in
            let created = try await client.create(.configMaps, namespace: "default", object: configMap("c1", data: ["a": "1"]))
            #expect(created[path: ["metadata", "uid"]] != nil)
            #expect(await expectKubeError { try await client.create(.configMaps, namespace: "default", object: configMap("c1")) }?.code == .alreadyExists)
            #expect(await expectKubeError { _ = try await client.get(.configMaps, namespace: "default", name: "nope") }?.code == .notFound)
            #expect(try await client.getIfPresent(.configMaps, namespace: "default", name: "nope") == nil)

            var stale = created
            stale["data"] = ["a": "2"]
            try await client.update(.configMaps, namespace: "default", object: stale)
            let conflict = await expectKubeError { try await client.update(.configMaps, namespace: "default", object: stale) }
            #expect(conflict?.code == .conflict)
            #expect(conflict?.detail.contains("the object has been modified") == true)

            let invalid = await expectKubeError { try await client.create(.configMaps, namespace: "default", object: configMap("Bad_Name")) }
            #expect(invalid?.code == .invalid)

            let patched = try await client.patch(.configMaps, namespace: "default", name: "c1", type: .merge, patch: ["data": ["b": "3"]])
            #expect(patched["data"] == ["a": "2", "b": "3"])
            let applied = try await client.apply(.configMaps, namespace: "default", object: configMap("c2", data: ["x": "y"]), fieldManager: "test")
            #expect(applied[path: ["metadata", "managedFields"]]?.arrayValue?.first?["manager"] == "test")

            try await client.delete(.configMaps, namespace: "default", name: "c1", waitUntilGone: .seconds(120))
            #expect(try await client.getIfPresent(.configMaps, namespace: "default", name: "c1") == nil)
        }
    }

    @Test func listFollowsContinueTokens() async throws {
        try await SimulatorHarness.withClient { client, cluster, _ in
            let type = try #require(await cluster.store.type(group: "", resource: "configmaps"))
            for index in 0..<1_200 {
                try await cluster.store.create(type, namespace: "default", object: configMap(String(format: "cm-%04d", index)))
            }
            let list = try await client.list(.configMaps, namespace: "default", pageSize: 500)
            #expect(list.items.count == 1_200)
            #expect(Set(list.items.compactMap { $0[path: ["metadata", "name"]]?.stringValue }).count == 1_200)
            let lists = await cluster.log.entries.filter { $0.path == "/api/v1/namespaces/default/configmaps" && $0.method == "GET" }
            #expect(lists.count == 3)
        }
    }

    @Test func idempotentReadsRetryThroughFaults() async throws {
        try await SimulatorHarness.withClient { client, cluster, _ in
            await cluster.faults.fail(verb: "get", resource: "namespaces", status: 503, count: 2)
            #expect(try await client.get(.namespaces, name: "default")[path: ["metadata", "name"]] == "default")
            await cluster.faults.fail(verb: "list", resource: "namespaces", status: 429, count: 1, retryAfterSeconds: 1)
            let start = ContinuousClock.now
            _ = try await client.list(.namespaces)
            #expect(ContinuousClock.now - start >= .milliseconds(900), "Retry-After: 1 was honoured")
        }
    }

    @Test func writesAreNotRetried() async throws {
        try await SimulatorHarness.withClient { client, cluster, _ in
            await cluster.faults.fail(verb: "create", resource: "configmaps", status: 503, count: 1)
            let error = await expectKubeError { try await client.create(.configMaps, namespace: "default", object: configMap("once")) }
            #expect(error?.code == .serverError)
            let leftover = try await client.getIfPresent(.configMaps, namespace: "default", name: "once")
            #expect(leftover == nil)
        }
    }

    @Test func persistentServerErrorsGiveUp() async throws {
        try await SimulatorHarness.withClient { client, cluster, _ in
            await cluster.faults.fail(verb: "get", resource: "namespaces", status: 500, count: 50)
            let error = await expectKubeError { _ = try await client.get(.namespaces, name: "default") }
            #expect(error?.code == .serverError)
            let attempts = await cluster.log.entries.filter { $0.path == "/api/v1/namespaces/default" }.count
            #expect(attempts == client.retry.maxAttempts)
        }
    }
}

@Suite(.serialized) struct KubeClientWatchTests {
    @Test func watchResumesAfterTheConnectionDrops() async throws {
        try await SimulatorHarness.withClient { client, cluster, _ in
            let events = client.watch(.configMaps, namespace: "default")
            var iterator = events.makeAsyncIterator()
            guard case .relisted = try await iterator.next() else {
                Issue.record("a watch starts with a list")
                return
            }
            guard case .progress = try await iterator.next() else {
                Issue.record("then says how far the list reached")
                return
            }
            try await client.create(.configMaps, namespace: "default", object: configMap("w1"))
            guard case .added(let first) = try await Self.nextChange(&iterator) else {
                Issue.record("expected ADDED w1")
                return
            }
            #expect(first[path: ["metadata", "name"]] == "w1")
            await cluster.store.dropAllWatches()
            try await client.create(.configMaps, namespace: "default", object: configMap("w2"))
            guard case .added(let second) = try await Self.nextChange(&iterator) else {
                Issue.record("expected ADDED w2 after the reconnect")
                return
            }
            #expect(second[path: ["metadata", "name"]] == "w2")
            let watches = await cluster.log.entries.filter { $0.query.contains("watch=true") }
            #expect(watches.count >= 2)
            #expect(watches.last?.query.contains("resourceVersion=\(first[path: ["metadata", "resourceVersion"]]?.stringValue ?? "-")") == true)
        }
    }

    /// The next event that changes an object (progress marks are skipped).
    static func nextChange(_ iterator: inout AsyncThrowingStream<KubeWatchEvent, any Error>.Iterator) async throws -> KubeWatchEvent? {
        while let event = try await iterator.next() {
            if case .progress = event { continue }
            return event
        }
        return nil
    }

    @Test func watchRelistsAfter410() async throws {
        try await SimulatorHarness.withClient { client, cluster, _ in
            let old = try await client.list(.configMaps, namespace: "default").resourceVersion
            try await client.create(.configMaps, namespace: "default", object: configMap("r1"))
            await cluster.store.compact()
            let events = client.watch(.configMaps, namespace: "default", resourceVersion: old)
            var iterator = events.makeAsyncIterator()
            guard case .relisted(let items) = try await iterator.next() else {
                Issue.record("expected a relist after 410")
                return
            }
            #expect(items.contains { $0[path: ["metadata", "name"]] == "r1" })
        }
    }

    @Test func waitForSeesTheChange() async throws {
        try await SimulatorHarness.withClient { client, cluster, _ in
            try await client.create(.configMaps, namespace: "default", object: configMap("flag", data: ["ready": "no"]))
            async let waited = client.waitFor(.configMaps, namespace: "default", name: "flag", timeout: .seconds(120), until: "ready") {
                $0?[path: ["data", "ready"]] == "yes"
            }
            try await Task.sleep(for: .milliseconds(100))
            try await client.patch(.configMaps, namespace: "default", name: "flag", type: .merge, patch: ["data": ["ready": "yes"]])
            #expect(try await waited?[path: ["data", "ready"]] == "yes")
        }
    }

    @Test func waitForTimesOutNamingWhatItSaw() async throws {
        try await SimulatorHarness.withClient { client, _, _ in
            try await client.create(.configMaps, namespace: "default", object: configMap("never", data: ["ready": "no"]))
            let error = await expectKubeError {
                try await client.waitFor(.configMaps, namespace: "default", name: "never", timeout: .seconds(5), until: "ready") {
                    $0?[path: ["data", "ready"]] == "yes"
                }
            }
            #expect(error?.code == .timeout)
            #expect(error?.detail.contains("last seen: resourceVersion") == true)
        }
    }
}
