export {
  subscriptionWorkflow,
  orderPaidSignal,
  lifecycleEventSignal,
  restartSignal,
  statusQuery,
  changeCheckUpdate,
} from './subscription';
