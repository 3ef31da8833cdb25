import Foundation
import KubeModels
import Simulator
import Testing

@testable import KubeClient

/// `KubeClient.exec` against the simulator's WebSocket exec, over HTTPS with client certificates.
@Suite(.serialized) struct ExecTests {
    /// Creates a running pod (optionally mounting a bound PV at `mountPath`) and runs `body`.
    func withRunningPod(
        mountPath: String? = nil, _ body: @Sendable (KubeClient, SimulatedCluster) async throws -> Void
    ) async throws {
        try await SimulatorHarness.withClient { client, cluster, _ in
            var pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "namespace": "default"],
                "spec": ["containers": [["name": "main", "image": "busybox", "command": ["sleep", "infinity"]]]]]
            if let mountPath {
                _ = try await client.create(.persistentVolumes, object: ["apiVersion": "v1", "kind": "PersistentVolume", "metadata": ["name": "pv-x"],
                    "spec": ["capacity": ["storage": "1Gi"], "accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
                        "claimRef": ["namespace": "default", "name": "data"], "csi": ["driver": "driver.longhorn.io", "volumeHandle": "vol-x"]]])
                _ = try await client.create(.persistentVolumeClaims, namespace: "default", object: ["apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": ["name": "data", "namespace": "default"],
                    "spec": ["storageClassName": "manual", "volumeName": "pv-x", "accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]]])
                pod[path: ["spec", "volumes"]] = [["name": "v", "persistentVolumeClaim": ["claimName": "data"]]]
                pod[path: ["spec", "containers"]] = [["name": "main", "image": "busybox", "command": ["sleep", "infinity"],
                    "volumeMounts": [["name": "v", "mountPath": .string(mountPath)]]]]
            }
            _ = try await client.create(.pods, namespace: "default", object: pod)
            try await client.waitFor(.pods, namespace: "default", name: "p", timeout: .seconds(30), until: "Running") {
                $0?[path: ["status", "phase"]] == "Running"
            }
            try await body(client, cluster)
        }
    }

    @Test func exitCodesAreResults() async throws {
        try await withRunningPod { client, _ in
            let ok = try await client.exec(namespace: "default", pod: "p", command: ["sh", "-c", "echo out; echo err >&2"])
            #expect(ok.exitCode == 0)
            #expect(ok.stdoutText == "out\n")
            #expect(ok.stderrText == "err\n")
            let three = try await client.exec(namespace: "default", pod: "p", command: ["sh", "-c", "exit 3"])
            #expect(three.exitCode == 3)
        }
    }

    @Test func stdinIsEchoedThroughCat() async throws {
        try await withRunningPod { client, _ in
            let result = try await client.exec(namespace: "default", pod: "p", command: ["cat"], stdin: Data("data\nmore".utf8))
            #expect(result.exitCode == 0)
            #expect(result.stdoutText == "data\nmore")
        }
    }

    @Test func filesWrittenIntoAClaimAreReadBack() async throws {
        let mountPath = "/lhdr-exec-\(UUID().uuidString.prefix(8).lowercased())"
        defer { try? FileManager.default.removeItem(atPath: mountPath) }
        try await withRunningPod(mountPath: mountPath) { client, cluster in
            let write = try await client.exec(namespace: "default", pod: "p", command: ["sh", "-c", "echo kept > \(mountPath)/f"])
            #expect(write.exitCode == 0, "\(write.stderrText)")
            let read = try await client.exec(namespace: "default", pod: "p", command: ["cat", "\(mountPath)/f"])
            #expect(read.stdoutText == "kept\n")
            let onHost = try cluster.volumes.directory(volumeKey: "vol-x").appendingPathComponent("f")
            #expect(String(decoding: try Data(contentsOf: onHost), as: UTF8.self) == "kept\n")
        }
    }

    @Test func outputRightAfterTheUpgradeIsNotLost() async throws {
        try await withRunningPod { client, _ in
            // `echo` answers in the same read as the 101 more often than not; 20 rounds catch a lost frame.
            for round in 0..<20 {
                let result = try await client.exec(namespace: "default", pod: "p", command: ["echo", "round-\(round)"])
                #expect(result.stdoutText == "round-\(round)\n")
                #expect(result.exitCode == 0)
            }
        }
    }

    @Test func unknownContainerIsAnErrorNamingIt() async throws {
        try await withRunningPod { client, _ in
            let error = await expectKubeError { _ = try await client.exec(namespace: "default", pod: "p", container: "nope", command: ["true"]) }
            #expect(error?.code == .badRequest)
            #expect(error?.detail.contains("container nope is not valid for pod p") == true, "\(String(describing: error))")
        }
    }

    @Test func execIntoACompletedPodIsRefused() async throws {
        try await SimulatorHarness.withClient { client, _, _ in
            _ = try await client.create(.pods, namespace: "default", object: ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "done"],
                "spec": ["restartPolicy": "Never", "containers": [["name": "main", "image": "busybox", "command": ["true"]]]]])
            try await client.waitFor(.pods, namespace: "default", name: "done", timeout: .seconds(30), until: "Succeeded") {
                $0?[path: ["status", "phase"]] == "Succeeded"
            }
            let error = await expectKubeError { _ = try await client.exec(namespace: "default", pod: "done", command: ["true"]) }
            #expect(error?.code == .badRequest)
            #expect(error?.detail.contains("completed pod") == true)
        }
    }

    @Test func timeoutNamesPodAndCommand() async throws {
        try await withRunningPod { client, _ in
            let error = await expectKubeError { _ = try await client.exec(namespace: "default", pod: "p", command: ["sleep", "5"], timeout: .milliseconds(300)) }
            #expect(error?.code == .timeout)
            #expect(error?.description.contains("default/p") == true && error?.description.contains("sleep") == true)
        }
    }

    @Test func acceptKeyMatchesRFC6455Sample() {
        #expect(ExecConnection.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func exitStatusDecoding() throws {
        #expect(ExecChannelProtocol.exitCode(fromStatus: ["metadata": [:], "status": "Success"]) == 0)
        let failure = try JSONValue(parsing: #"{"metadata":{},"status":"Failure","reason":"NonZeroExitCode","message":"command terminated with non-zero exit code","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}"#)
        #expect(ExecChannelProtocol.exitCode(fromStatus: failure) == 3)
        #expect(ExecChannelProtocol.exitCode(fromStatus: ["status": "Failure", "message": "boom"]) == nil)
    }

    @Test func ipAddressesAreNotSentAsSNI() {
        #expect(ExecConnection.isIPAddress("127.0.0.1"))
        #expect(ExecConnection.isIPAddress("[::1]"))
        #expect(!ExecConnection.isIPAddress("kubernetes.default.svc"))
    }
}
