<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis styleCategories="AllStyleCategories" maxScale="0" version="3.22.16-Białowieża" minScale="1e+08" hasScaleBasedVisibilityFlag="0">
  <flags>
    <Identifiable>1</Identifiable>
    <Removable>1</Removable>
    <Searchable>1</Searchable>
    <Private>0</Private>
  </flags>
  <temporal mode="0" enabled="0" fetchMode="0">
    <fixedRange>
      <start></start>
      <end></end>
    </fixedRange>
  </temporal>
  <customproperties>
    <Option type="Map">
      <Option type="QString" value="Value" name="identify/format"/>
    </Option>
  </customproperties>
  <pipe-data-defined-properties>
    <Option type="Map">
      <Option type="QString" value="" name="name"/>
      <Option name="properties"/>
      <Option type="QString" value="collection" name="type"/>
    </Option>
  </pipe-data-defined-properties>
  <pipe>
    <provider>
      <resampling maxOversampling="2" enabled="false" zoomedInResamplingMethod="nearestNeighbour" zoomedOutResamplingMethod="nearestNeighbour"/>
    </provider>
    <rasterrenderer opacity="1" classificationMax="300" nodataColor="" classificationMin="150" alphaBand="-1" type="singlebandpseudocolor" band="1">
      <minMaxOrigin>
        <limits>None</limits>
        <extent>WholeRaster</extent>
        <statAccuracy>Estimated</statAccuracy>
        <cumulativeCutLower>0.02</cumulativeCutLower>
        <cumulativeCutUpper>0.98</cumulativeCutUpper>
        <stdDevFactor>2</stdDevFactor>
      </minMaxOrigin>
      <rastershader>
        <colorrampshader minimumValue="150" labelPrecision="6" maximumValue="300" clip="0" classificationMode="1" colorRampType="INTERPOLATED">
          <colorramp type="gradient" name="[source]">
            <Option type="Map">
              <Option type="QString" value="68,1,84,255" name="color1"/>
              <Option type="QString" value="253,231,37,255" name="color2"/>
              <Option type="QString" value="0" name="discrete"/>
              <Option type="QString" value="gradient" name="rampType"/>
              <Option type="QString" value="0.0196078;70,8,92,255:0.0392157;71,16,99,255:0.0588235;72,23,105,255:0.0784314;72,29,111,255:0.0980392;72,36,117,255:0.117647;71,42,122,255:0.137255;70,48,126,255:0.156863;69,55,129,255:0.176471;67,61,132,255:0.196078;65,66,135,255:0.215686;63,72,137,255:0.235294;61,78,138,255:0.254902;58,83,139,255:0.27451;56,89,140,255:0.294118;53,94,141,255:0.313725;51,99,141,255:0.333333;49,104,142,255:0.352941;46,109,142,255:0.372549;44,113,142,255:0.392157;42,118,142,255:0.411765;41,123,142,255:0.431373;39,128,142,255:0.45098;37,132,142,255:0.470588;35,137,142,255:0.490196;33,142,141,255:0.509804;32,146,140,255:0.529412;31,151,139,255:0.54902;30,156,137,255:0.568627;31,161,136,255:0.588235;33,165,133,255:0.607843;36,170,131,255:0.627451;40,174,128,255:0.647059;46,179,124,255:0.666667;53,183,121,255:0.686275;61,188,116,255:0.705882;70,192,111,255:0.72549;80,196,106,255:0.745098;90,200,100,255:0.764706;101,203,94,255:0.784314;112,207,87,255:0.803922;124,210,80,255:0.823529;137,213,72,255:0.843137;149,216,64,255:0.862745;162,218,55,255:0.882353;176,221,47,255:0.901961;189,223,38,255:0.921569;202,225,31,255:0.941176;216,226,25,255:0.960784;229,228,25,255:0.980392;241,229,29,255" name="stops"/>
            </Option>
            <prop v="68,1,84,255" k="color1"/>
            <prop v="253,231,37,255" k="color2"/>
            <prop v="0" k="discrete"/>
            <prop v="gradient" k="rampType"/>
            <prop v="0.0196078;70,8,92,255:0.0392157;71,16,99,255:0.0588235;72,23,105,255:0.0784314;72,29,111,255:0.0980392;72,36,117,255:0.117647;71,42,122,255:0.137255;70,48,126,255:0.156863;69,55,129,255:0.176471;67,61,132,255:0.196078;65,66,135,255:0.215686;63,72,137,255:0.235294;61,78,138,255:0.254902;58,83,139,255:0.27451;56,89,140,255:0.294118;53,94,141,255:0.313725;51,99,141,255:0.333333;49,104,142,255:0.352941;46,109,142,255:0.372549;44,113,142,255:0.392157;42,118,142,255:0.411765;41,123,142,255:0.431373;39,128,142,255:0.45098;37,132,142,255:0.470588;35,137,142,255:0.490196;33,142,141,255:0.509804;32,146,140,255:0.529412;31,151,139,255:0.54902;30,156,137,255:0.568627;31,161,136,255:0.588235;33,165,133,255:0.607843;36,170,131,255:0.627451;40,174,128,255:0.647059;46,179,124,255:0.666667;53,183,121,255:0.686275;61,188,116,255:0.705882;70,192,111,255:0.72549;80,196,106,255:0.745098;90,200,100,255:0.764706;101,203,94,255:0.784314;112,207,87,255:0.803922;124,210,80,255:0.823529;137,213,72,255:0.843137;149,216,64,255:0.862745;162,218,55,255:0.882353;176,221,47,255:0.901961;189,223,38,255:0.921569;202,225,31,255:0.941176;216,226,25,255:0.960784;229,228,25,255:0.980392;241,229,29,255" k="stops"/>
          </colorramp>
          <item alpha="255" value="150" label="150" color="#440154"/>
          <item alpha="255" value="152.94117" label="153" color="#46085c"/>
          <item alpha="255" value="155.882355" label="156" color="#471063"/>
          <item alpha="255" value="158.823525" label="159" color="#481769"/>
          <item alpha="255" value="161.76471" label="162" color="#481d6f"/>
          <item alpha="255" value="164.70588" label="165" color="#482475"/>
          <item alpha="255" value="167.64705" label="168" color="#472a7a"/>
          <item alpha="255" value="170.58825" label="171" color="#46307e"/>
          <item alpha="255" value="173.52945" label="174" color="#453781"/>
          <item alpha="255" value="176.47065" label="176" color="#433d84"/>
          <item alpha="255" value="179.4117" label="179" color="#414287"/>
          <item alpha="255" value="182.3529" label="182" color="#3f4889"/>
          <item alpha="255" value="185.29410000000001" label="185" color="#3d4e8a"/>
          <item alpha="255" value="188.2353" label="188" color="#3a538b"/>
          <item alpha="255" value="191.1765" label="191" color="#38598c"/>
          <item alpha="255" value="194.1177" label="194" color="#355e8d"/>
          <item alpha="255" value="197.05875" label="197" color="#33638d"/>
          <item alpha="255" value="199.99995" label="200" color="#31688e"/>
          <item alpha="255" value="202.94115" label="203" color="#2e6d8e"/>
          <item alpha="255" value="205.88235" label="206" color="#2c718e"/>
          <item alpha="255" value="208.82355" label="209" color="#2a768e"/>
          <item alpha="255" value="211.76475" label="212" color="#297b8e"/>
          <item alpha="255" value="214.70595" label="215" color="#27808e"/>
          <item alpha="255" value="217.647" label="218" color="#25848e"/>
          <item alpha="255" value="220.5882" label="221" color="#23898e"/>
          <item alpha="255" value="223.5294" label="224" color="#218e8d"/>
          <item alpha="255" value="226.4706" label="226" color="#20928c"/>
          <item alpha="255" value="229.4118" label="229" color="#1f978b"/>
          <item alpha="255" value="232.353" label="232" color="#1e9c89"/>
          <item alpha="255" value="235.29405" label="235" color="#1fa188"/>
          <item alpha="255" value="238.23525" label="238" color="#21a585"/>
          <item alpha="255" value="241.17645" label="241" color="#24aa83"/>
          <item alpha="255" value="244.11765" label="244" color="#28ae80"/>
          <item alpha="255" value="247.05885" label="247" color="#2eb37c"/>
          <item alpha="255" value="250.00005" label="250" color="#35b779"/>
          <item alpha="255" value="252.94125" label="253" color="#3dbc74"/>
          <item alpha="255" value="255.8823" label="256" color="#46c06f"/>
          <item alpha="255" value="258.82349999999997" label="259" color="#50c46a"/>
          <item alpha="255" value="261.7647" label="262" color="#5ac864"/>
          <item alpha="255" value="264.7059" label="265" color="#65cb5e"/>
          <item alpha="255" value="267.6471" label="268" color="#70cf57"/>
          <item alpha="255" value="270.5883" label="271" color="#7cd250"/>
          <item alpha="255" value="273.52935" label="274" color="#89d548"/>
          <item alpha="255" value="276.47055" label="276" color="#95d840"/>
          <item alpha="255" value="279.41175" label="279" color="#a2da37"/>
          <item alpha="255" value="282.35295" label="282" color="#b0dd2f"/>
          <item alpha="255" value="285.29415" label="285" color="#bddf26"/>
          <item alpha="255" value="288.23535" label="288" color="#cae11f"/>
          <item alpha="255" value="291.1764" label="291" color="#d8e219"/>
          <item alpha="255" value="294.1176" label="294" color="#e5e419"/>
          <item alpha="255" value="297.0588" label="297" color="#f1e51d"/>
          <item alpha="255" value="300" label="300" color="#fde725"/>
          <rampLegendSettings orientation="2" useContinuousLegend="1" suffix="" direction="0" prefix="" minimumLabel="" maximumLabel="">
            <numericFormat id="basic">
              <Option type="Map">
                <Option type="QChar" value="" name="decimal_separator"/>
                <Option type="int" value="6" name="decimals"/>
                <Option type="int" value="0" name="rounding_type"/>
                <Option type="bool" value="false" name="show_plus"/>
                <Option type="bool" value="true" name="show_thousand_separator"/>
                <Option type="bool" value="false" name="show_trailing_zeros"/>
                <Option type="QChar" value="" name="thousand_separator"/>
              </Option>
            </numericFormat>
          </rampLegendSettings>
        </colorrampshader>
      </rastershader>
    </rasterrenderer>
    <brightnesscontrast gamma="1" brightness="0" contrast="0"/>
    <huesaturation colorizeGreen="128" colorizeRed="255" grayscaleMode="0" invertColors="0" colorizeOn="0" colorizeStrength="100" saturation="0" colorizeBlue="128"/>
    <rasterresampler maxOversampling="2"/>
    <resamplingStage>resamplingFilter</resamplingStage>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
