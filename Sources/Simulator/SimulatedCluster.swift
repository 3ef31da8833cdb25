import Foundation
import KubeModels

/// A whole simulated cluster: the API store, the request log, fault switches, and the
/// controllers a real cluster runs (namespace lifecycle, CRD registration, ...).
public final class SimulatedCluster: Sendable {
    public let store: ClusterStore
    public let log: RequestLog
    public let faults: FaultInjector
    public let handler: APIHandler
    /// Runs pods' commands and serves logs and exec (the kubelet's container runtime).
    public let runtime: ContainerRuntime
    /// Dynamic provisioners by StorageClass `provisioner`; `driver.longhorn.io` is registered with a
    /// hook that manages the volume's data directory until a Longhorn simulation registers its own.
    public let provisioners: VolumeProvisioners
    /// Where volume content lives on the host.
    public var volumes: VolumeDataStore { runtime.data }

    /// - Parameters:
    ///   - dataRoot: where pod volumes live on the host; a fresh temporary directory when nil.
    ///   - requestLogPath: also write every request to this file, one JSON object per line.
    public init(historyLimit: Int = 10_000, dataRoot: URL? = nil, requestLogPath: String? = nil, now: @escaping @Sendable () -> Date = { Date() }) async {
        let store = ClusterStore(historyLimit: historyLimit, now: now)
        self.store = store
        self.log = RequestLog(sinkPath: requestLogPath)
        self.faults = FaultInjector()
        let runtime = ContainerRuntime(store: store, data: dataRoot.map(VolumeDataStore.init(root:)) ?? .temporary(), now: now)
        self.runtime = runtime
        self.handler = APIHandler(store: store, log: log, faults: faults, pods: runtime)
        self.provisioners = VolumeProvisioners()
        await provisioners.register(driver: "driver.longhorn.io", hook: DirectoryVolumeHook(data: runtime.data))
        await store.addAdmission(BuiltinDefaults())
        await store.addAdmission(StorageProtection.Admission())
        await Self.seed(store)
    }

    /// What every fresh cluster has: the standard namespaces.
    static func seed(_ store: ClusterStore) async {
        guard let namespaces = await store.type(group: "", resource: "namespaces") else { return }
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            _ = try? await store.create(namespaces, namespace: nil, object: ["metadata": ["name": .string(name)]])
        }
    }

    /// Runs the controllers until the calling task is cancelled.
    public func runControllers() async {
        await withTaskGroup(of: Void.self) { group in
            for controller in Controllers.all(self) {
                group.addTask { await controller.run() }
            }
        }
    }

    /// Runs `body` with the controllers going, then stops them.
    public func withControllers<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await self.runControllers()
                return nil
            }
            let result = try await body()
            group.cancelAll()
            return result
        }
    }
}
