import Foundation
import KubeModels
import Testing

@testable import Simulator

/// The kubelet stand-in: scheduling, status, container commands, volumes, graceful deletion, logs.
@Suite struct KubeletTests {
    @Test func podGoesRunningWithKubeletStatus() async throws {
        try await SimTestCluster.run { sim in
            let pods = try await sim.type("", "pods")
            try await sim.store.create(pods, namespace: "default", object: podObject("p"))
            let pod = try #require(
                try await sim.waitFor("", "pods", name: "p", "Running") {
                    phase("Running")($0) && condition($0, "Ready")?["status"] == "True"
                })
            #expect(pod[path: ["spec", "nodeName"]] == "sim-node-1")
            #expect(pod[path: ["status", "podIP"]]?.stringValue?.hasPrefix("127.0.0.") == true)
            #expect(pod[path: ["status", "startTime"]] != nil)
            for type in ["PodScheduled", "Initialized", "ContainersReady", "Ready"] {
                #expect(condition(pod, type)?["status"] == "True", "\(type)")
            }
            let status = try #require(pod[path: ["status", "containerStatuses"]]?.arrayValue?.first)
            #expect(status["name"] == "main" && status["image"] == "busybox:1.36")
            #expect(status["ready"] == true && status["started"] == true && status["restartCount"] == 0)
            #expect(status[path: ["state", "running", "startedAt"]] != nil)
        }
    }

    @Test func podStaysPendingWhileItsClaimIsUnbound() async throws {
        try await SimTestCluster.run { sim in
            let pods = try await sim.type("", "pods")
            let claims = try await sim.type("", "persistentvolumeclaims")
            try await sim.store.create(
                claims, namespace: "default",
                object: [
                    "metadata": ["name": "data"],
                    "spec": ["storageClassName": "nothing-provisions-this", "accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]],
                ])
            try await sim.store.create(
                pods, namespace: "default",
                object: podObject(
                    "p",
                    volumes: [["name": "v", "persistentVolumeClaim": ["claimName": "data"]]], mounts: [["name": "v", "mountPath": "/data"]]))
            let pod = try #require(
                try await sim.waitFor("", "pods", name: "p", "unschedulable") {
                    condition($0, "PodScheduled")?["reason"] == "Unschedulable"
                })
            #expect(pod[path: ["status", "phase"]] == "Pending")
            #expect(condition(pod, "PodScheduled")?["status"] == "False")
            #expect(condition(pod, "PodScheduled")?["message"]?.stringValue?.contains("\"data\"") == true)
            #expect(pod[path: ["spec", "nodeName"]] == nil)
        }
    }

    @Test func finishedCommandsDecideSucceededOrFailed() async throws {
        try await SimTestCluster.run { sim in
            let pods = try await sim.type("", "pods")
            try await sim.store.create(
                pods, namespace: "default", object: podObject("ok", command: ["sh", "-c", "echo one; echo two >&2"], restartPolicy: "Never"))
            try await sim.store.create(pods, namespace: "default", object: podObject("bad", command: ["sh", "-c", "exit 3"], restartPolicy: "Never"))
            let ok = try await sim.waitFor("", "pods", name: "ok", "Succeeded", phase("Succeeded"))
            let bad = try await sim.waitFor("", "pods", name: "bad", "Failed", phase("Failed"))
            #expect(ok?[path: ["status", "containerStatuses"]]?.arrayValue?.first?[path: ["state", "terminated", "exitCode"]] == 0)
            #expect(bad?[path: ["status", "containerStatuses"]]?.arrayValue?.first?[path: ["state", "terminated", "exitCode"]] == 3)
            #expect(bad?[path: ["status", "containerStatuses"]]?.arrayValue?.first?[path: ["state", "terminated", "reason"]] == "Error")
            let logs = await sim.cluster.handler.handle(APIRequest(method: "GET", path: "/api/v1/namespaces/default/pods/ok/log"))
            #expect(logs.status == 200)
            let text = String(decoding: await logs.collect(), as: UTF8.self)
            #expect(text.contains("one\n") && text.contains("two\n"))
        }
    }

    @Test func gracefulDeletionIsFinishedByTheKubelet() async throws {
        try await SimTestCluster.run { sim in
            let pods = try await sim.type("", "pods")
            try await sim.store.create(pods, namespace: "default", object: podObject("p"))
            try await sim.waitFor("", "pods", name: "p", "Running", phase("Running"))
            let result = try await sim.store.delete(pods, namespace: "default", name: "p")
            #expect(result.gone == false)
            #expect(result.object[path: ["metadata", "deletionTimestamp"]] != nil)
            #expect(result.object[path: ["metadata", "deletionGracePeriodSeconds"]] == 30)
            try await sim.waitFor("", "pods", name: "p", "deleted", absent)
        }
    }

    @Test func containersSeeTheirVolumesAtTheirMountPaths() async throws {
        try await SimTestCluster.run { sim in
            let pods = try await sim.type("", "pods")
            let pvs = try await sim.type("", "persistentvolumes")
            let claims = try await sim.type("", "persistentvolumeclaims")
            try await sim.store.create(
                pvs, namespace: nil,
                object: [
                    "metadata": ["name": "pv-a"],
                    "spec": [
                        "capacity": ["storage": "1Gi"], "accessModes": ["ReadWriteOnce"], "csi": ["driver": "driver.longhorn.io", "volumeHandle": "vol-a"],
                    ],
                ])
            try await sim.store.create(
                claims, namespace: "default",
                object: [
                    "metadata": ["name": "data"],
                    "spec": ["storageClassName": "", "volumeName": "pv-a", "accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]],
                ])
            let dataPath = uniqueMountPath()
            let scratchPath = uniqueMountPath()
            try await sim.store.create(
                pods, namespace: "default",
                object: podObject(
                    "writer",
                    command: ["sh", "-c", "echo persisted > \(dataPath)/file && echo scratch > \(scratchPath)/file && cat \(dataPath)/file"],
                    restartPolicy: "Never",
                    volumes: [["name": "v", "persistentVolumeClaim": ["claimName": "data"]], ["name": "tmp", "emptyDir": [:]]],
                    mounts: [["name": "v", "mountPath": .string(dataPath)], ["name": "tmp", "mountPath": .string(scratchPath)]]))
            try await sim.waitFor("", "pods", name: "writer", "Succeeded", phase("Succeeded"))
            let stored = try sim.cluster.volumes.directory(volumeKey: "vol-a").appendingPathComponent("file")
            #expect(String(decoding: try Data(contentsOf: stored), as: UTF8.self) == "persisted\n")
            // The bind was private to the container: the host's mount point stays empty.
            #expect((try? FileManager.default.contentsOfDirectory(atPath: dataPath))?.isEmpty ?? true)
            try? FileManager.default.removeItem(atPath: dataPath)
            try? FileManager.default.removeItem(atPath: scratchPath)
        }
    }

    /// What a Job like the restore orchestrator needs from its pod: its config from a ConfigMap, a
    /// Secret, the in-cluster config (token, CA, namespace, KUBERNETES_SERVICE_HOST/PORT), and its
    /// image's commands on the PATH.
    @Test func configMapsSecretsAndTheServiceAccountShowUpInTheContainer() async throws {
        try await SimTestCluster.run { sim in
            await sim.cluster.access.setEndpoint(ClusterAccess.Endpoint(host: "127.0.0.1", port: 6443, caPEM: "-----BEGIN CERTIFICATE-----\nsim\n"))
            let tools = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-image-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: tools) }
            let tool = tools.appendingPathComponent("image-tool")
            try Data("#!/bin/sh\necho from-the-image\n".utf8).write(to: tool)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tool.path)
            await sim.cluster.runtime.setImageBin("ghcr.io/example/tool", folder: tools.path)

            try await sim.store.create(
                try await sim.type("", "configmaps"), namespace: "default", object: ["metadata": ["name": "cfg"], "data": ["a.yaml": "x: 1"]])
            try await sim.store.create(
                try await sim.type("", "secrets"), namespace: "default", object: ["metadata": ["name": "sec"], "data": ["pw": "czNjcmV0"]])
            let configPath = uniqueMountPath()
            let secretPath = uniqueMountPath()
            var pod = podObject(
                "job",
                command: [
                    "sh", "-c",
                    "cat \(configPath)/a.yaml; echo; cat \(secretPath)/password; echo; cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; "
                        + "head -c 3 /var/run/secrets/kubernetes.io/serviceaccount/token; echo; echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT; image-tool",
                ],
                restartPolicy: "Never",
                volumes: [
                    ["name": "c", "configMap": ["name": "cfg"]],
                    ["name": "s", "secret": ["secretName": "sec", "items": [["key": "pw", "path": "password"]]]],
                ],
                mounts: [["name": "c", "mountPath": .string(configPath)], ["name": "s", "mountPath": .string(secretPath)]])
            pod[path: ["spec", "containers"]] = .array(
                (pod[path: ["spec", "containers"]]?.arrayValue ?? []).map { container in
                    var container = container
                    container["image"] = "ghcr.io/example/tool:1.2.3"
                    return container
                })
            try await sim.store.create(try await sim.type("", "pods"), namespace: "default", object: pod)
            try await sim.waitFor("", "pods", name: "job", "Succeeded", phase("Succeeded"))
            let log = await sim.cluster.handler.handle(APIRequest(method: "GET", path: "/api/v1/namespaces/default/pods/job/log"))
            #expect(String(decoding: await log.collect(), as: UTF8.self) == "x: 1\ns3cret\ndefault\nsa.\n127.0.0.1:6443\nfrom-the-image\n")
            // The token the pod got authenticates as its service account (the pod's default one).
            let uid = try #require(
                await sim.store.find(try await sim.type("", "pods"), namespace: "default", name: "job")?[path: ["metadata", "uid"]]?.stringValue)
            let tokenFile = try sim.cluster.volumes.emptyDir(podUID: uid, volume: "kube-api-access").appendingPathComponent("token")
            let token = String(decoding: try Data(contentsOf: tokenFile), as: UTF8.self)
            #expect(await sim.cluster.access.user(forToken: token) == .serviceAccount(namespace: "default", name: "default"))
            #expect(await sim.cluster.access.user(forToken: "sa.forged") == nil)
            try? FileManager.default.removeItem(atPath: configPath)
            try? FileManager.default.removeItem(atPath: secretPath)
        }
    }

    @Test func aMissingConfigMapKeepsThePodFromStartingAndSaysWhy() async throws {
        try await SimTestCluster.run { sim in
            try await sim.store.create(
                try await sim.type("", "pods"), namespace: "default",
                object: podObject(
                    "p", command: ["true"], restartPolicy: "Never",
                    volumes: [["name": "c", "configMap": ["name": "absent"]]], mounts: [["name": "c", "mountPath": .string(uniqueMountPath())]]))
            let pod = try #require(try await sim.waitFor("", "pods", name: "p", "FailedMount") { condition($0, "ContainersReady")?["reason"] == "FailedMount" })
            #expect(condition(pod, "ContainersReady")?["message"]?.stringValue?.contains(#"configmap "absent" not found"#) == true)
            #expect(pod[path: ["status", "phase"]] == "Pending")
        }
    }

    @Test func logsHonourTailLimitAndFollow() async throws {
        try await SimTestCluster.run { sim in
            let pods = try await sim.type("", "pods")
            try await sim.store.create(
                pods, namespace: "default", object: podObject("p", command: ["sh", "-c", "printf 'a\\nb\\nc\\n'; sleep 0.3; echo d"], restartPolicy: "Never"))
            try await sim.waitFor("", "pods", name: "p", "started") { $0?[path: ["status", "phase"]]?.stringValue != "Pending" }
            let handler = sim.cluster.handler
            let path = "/api/v1/namespaces/default/pods/p/log"
            let follow = await handler.handle(APIRequest(method: "GET", path: path, query: ["follow": ["true"]]))
            #expect(String(decoding: await follow.collect(), as: UTF8.self) == "a\nb\nc\nd\n", "follow streams until the container ends")
            let tail = await handler.handle(APIRequest(method: "GET", path: path, query: ["tailLines": ["2"]]))
            #expect(String(decoding: await tail.collect(), as: UTF8.self) == "c\nd\n")
            let limited = await handler.handle(APIRequest(method: "GET", path: path, query: ["limitBytes": ["3"]]))
            #expect(String(decoding: await limited.collect(), as: UTF8.self) == "a\nb")
            let wrong = await handler.handle(APIRequest(method: "GET", path: path, query: ["container": ["nope"]]))
            #expect(wrong.status == 400)
            let status = try JSONValue(parsing: await wrong.collect())
            #expect(status["message"] == "container nope is not valid for pod p")
        }
    }

    @Test func logsOfAContainerNotStartedYetSayItIsWaiting() async throws {
        let cluster = await SimulatedCluster()
        let pods = try #require(await cluster.store.type(group: "", resource: "pods"))
        try await cluster.store.create(pods, namespace: "default", object: podObject("p"))
        let response = await cluster.handler.handle(APIRequest(method: "GET", path: "/api/v1/namespaces/default/pods/p/log"))
        #expect(response.status == 400)
        let status = try JSONValue(parsing: await response.collect())
        #expect(status["message"] == "container \"main\" in pod \"p\" is waiting to start: ContainerCreating")
    }

    @Test func tailSelection() {
        let data = Data("1\n2\n3\n".utf8)
        #expect(ContainerLog.select(data, tailLines: 1, limitBytes: nil) == Data("3\n".utf8))
        #expect(ContainerLog.select(data, tailLines: 5, limitBytes: nil) == data)
        #expect(ContainerLog.select(data, tailLines: 0, limitBytes: nil).isEmpty)
        #expect(ContainerLog.select(Data("x\ny".utf8), tailLines: 1, limitBytes: nil) == Data("y".utf8))
        #expect(ContainerLog.select(data, tailLines: nil, limitBytes: 2) == Data("1\n".utf8))
    }

    @Test func runtimePrerequisitesArePresent() throws {
        // The runtime needs `unshare` and root or user namespaces; this host must have them.
        let sandbox = try PodSandbox.current.get()
        #expect(sandbox == (geteuid() == 0 ? .rootMountNamespace : .userNamespace))
    }

    @Test func withoutRootOrUserNamespacesTheSandboxSaysWhy() {
        let detected = PodSandbox.detect(environment: [PodSandbox.switchVariable: "off"])
        if geteuid() == 0 {
            #expect(detected == .success(.rootMountNamespace), "root needs no user namespace")
        } else {
            guard case .failure(let error) = detected else {
                Issue.record("expected a refusal, got \(detected)")
                return
            }
            #expect(error.message.contains("\(PodSandbox.switchVariable)=off"))
        }
    }
}

/// Exec processes straight from the runtime (no WebSocket): every run must report its output and exit.
@Suite struct ContainerProcessTests {
    @Test func manyShortProcessesAllReportOutputAndExit() async throws {
        let data = VolumeDataStore.temporary()
        defer { try? FileManager.default.removeItem(at: data.root) }
        for round in 0..<10 {
            let process = try ContainerProcess(command: ["echo", "r\(round)"], mounts: [], helper: try data.mountHelper(), withStdin: false)
            var output = Data()
            var code: Int32?
            for await item in process.output {
                switch item {
                case .stdout(let chunk): output.append(chunk)
                case .stderr: break
                case .exited(let status): code = status
                }
            }
            #expect(String(decoding: output, as: UTF8.self) == "r\(round)\n")
            #expect(code == 0)
        }
    }
}

/// Volume contents, Secrets and tokens on the host: the simulator's data root is its owner's only.
@Suite struct VolumeDataStoreModeTests {
    static func mode(_ url: URL) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? NSNumber)?.intValue
    }

    @Test func theDataRootAndSecretFilesArePrivate() throws {
        let data = VolumeDataStore.temporary()
        defer { try? FileManager.default.removeItem(at: data.root) }
        let folder = try data.emptyDir(podUID: "uid-1", volume: "creds")
        #expect(Self.mode(data.root) == 0o700)
        let secret: JSONValue = ["kind": "Secret", "data": ["password": .string(Data("hunter2".utf8).base64EncodedString())]]
        try PodVolumes.writeFiles(of: secret, isSecret: true, items: nil, into: folder)
        #expect(Self.mode(folder.appendingPathComponent("password")) == 0o600)
        #expect(try String(contentsOf: folder.appendingPathComponent("password"), encoding: .utf8) == "hunter2")
    }
}
