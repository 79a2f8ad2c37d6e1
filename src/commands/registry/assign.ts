// bramble assign: another name for bramble promote (GTO's word for it).
import { promoteCommand } from './promote.js';

export const command = promoteCommand('assign');
