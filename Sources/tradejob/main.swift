import Foundation
import TradejobCLI

// The cron tick that is not due is answered before anything else is set up (see IfDueFastPath).
if let notDue = IfDueFastPath.notDueMessageForThisProcess() {
    IfDueFastPath.emit(notDue)
    exit(0)
}
await Tradejob.entry()
