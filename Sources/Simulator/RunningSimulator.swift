import Foundation

/// A simulated cluster serving on loopback: its controllers, whatever runs beside them (the
/// simulated Longhorn) and the API server, all in one task. The one way to start and stop a
/// simulated cluster, for `sim serve`, the simulated exercise, the tests and the benchmarks.
public struct RunningSimulator: Sendable {
    public let endpoint: SimulatorServer.Endpoint
    public let cluster: SimulatedCluster
    private let task: Task<Void, Never>

    /// Starts serving and returns once the server listens.
    /// - Parameter alongside: runs beside the controllers (e.g. `LonghornSimulation.run`) and
    ///   stops with them.
    /// - Throws: the server's own error when it cannot listen (a port in use).
    public static func start(
        _ cluster: SimulatedCluster, options: SimulatorServer.Options = .init(), alongside: [@Sendable () async -> Void] = []
    ) async throws -> RunningSimulator {
        let (ready, readyContinuation) = AsyncStream.makeStream(of: Result<SimulatorServer.Endpoint, any Error>.self)
        let task = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await cluster.runControllers() }
                for job in alongside { group.addTask { await job() } }
                group.addTask {
                    do {
                        try await SimulatorServer.run(cluster, options: options) { readyContinuation.yield(.success($0)) }
                    } catch {
                        readyContinuation.yield(.failure(error))
                    }
                    readyContinuation.finish()
                }
                await group.waitForAll()
            }
        }
        var iterator = ready.makeAsyncIterator()
        switch await iterator.next() {
        case .success(let endpoint):
            return RunningSimulator(endpoint: endpoint, cluster: cluster, task: task)
        case .failure(let error):
            task.cancel()
            _ = await task.value
            throw error
        case nil:
            task.cancel()
            _ = await task.value
            throw SimulatorStartError()
        }
    }

    /// Runs `body` against a freshly started simulator, and stops it whatever happens.
    public static func with<T: Sendable>(
        _ cluster: SimulatedCluster, options: SimulatorServer.Options = .init(), alongside: [@Sendable () async -> Void] = [],
        isolation: isolated (any Actor)? = #isolation, _ body: (RunningSimulator) async throws -> T
    ) async throws -> T {
        let running = try await start(cluster, options: options, alongside: alongside)
        do {
            let result = try await body(running)
            await running.stop()
            return result
        } catch {
            await running.stop()
            throw error
        }
    }

    /// Stops the server and everything beside it; returns once they are gone.
    public func stop() async {
        task.cancel()
        _ = await task.value
    }

    /// Waits until the server ends on its own (it does not, unless it fails) or the caller is cancelled.
    public func wait() async {
        await withTaskCancellationHandler {
            _ = await task.value
        } onCancel: {
            task.cancel()
        }
    }
}

/// The server ended before it listened, without saying why.
public struct SimulatorStartError: Error, CustomStringConvertible {
    public var description: String { "the simulated API server stopped before it listened" }
}
