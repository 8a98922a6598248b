import { common, msp } from '@hyperledger/fabric-protos';
import { applicationMspIds } from './channel-members.js';

/** google-protobuf's `jspb.Map`, whose typings are not installed: the one call used here. */
interface SettableMap<T> {
  set(key: string, value: T): void;
}

const settable = <T>(map: unknown) => map as SettableMap<T>;

/** A block holding one transaction of `type` whose configuration names these organisations (group name → MSP id). */
function configBlock(organisations: Record<string, string>, type: number = common.HeaderType.CONFIG): common.Block {
  const application = new common.ConfigGroup();
  for (const [name, mspId] of Object.entries(organisations)) {
    const fabricMsp = new msp.FabricMSPConfig();
    fabricMsp.setName(mspId);
    const mspConfig = new msp.MSPConfig();
    mspConfig.setType(0);
    mspConfig.setConfig(fabricMsp.serializeBinary());
    const value = new common.ConfigValue();
    value.setValue(mspConfig.serializeBinary());
    const group = new common.ConfigGroup();
    settable<common.ConfigValue>(group.getValuesMap()).set('MSP', value);
    settable<common.ConfigGroup>(application.getGroupsMap()).set(name, group);
  }
  const channelGroup = new common.ConfigGroup();
  settable<common.ConfigGroup>(channelGroup.getGroupsMap()).set('Application', application);
  const config = new common.Config();
  config.setChannelGroup(channelGroup);
  const configEnvelope = new common.ConfigEnvelope();
  configEnvelope.setConfig(config);
  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(type);
  channelHeader.setChannelId('gigledger');
  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(configEnvelope.serializeBinary());
  const envelope = new common.Envelope();
  envelope.setPayload(payload.serializeBinary());
  const data = new common.BlockData();
  data.setDataList([envelope.serializeBinary()]);
  const block = new common.Block();
  const blockHeader = new common.BlockHeader();
  blockHeader.setNumber(7);
  block.setHeader(blockHeader);
  block.setData(data);
  return block;
}

describe('applicationMspIds', () => {
  it("names each application organisation by its MSP id, not its group's name", () => {
    const block = configBlock({ ClientOrg: 'ClientOrgMSP', TalentOrg: 'TalentOrgMSP', Label: 'LabelOrgMSP' });
    expect(applicationMspIds(common.Block.deserializeBinary(block.serializeBinary()))).toEqual([
      'ClientOrgMSP',
      'LabelOrgMSP',
      'TalentOrgMSP',
    ]);
  });

  it('refuses a block that holds no configuration', () => {
    expect(() =>
      applicationMspIds(configBlock({ ClientOrg: 'ClientOrgMSP' }, common.HeaderType.ENDORSER_TRANSACTION)),
    ).toThrow('the envelope is not a CONFIG transaction');
  });
});
